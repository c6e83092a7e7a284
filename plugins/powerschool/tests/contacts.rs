//! Contacts beyond one row per link: every StudentContactDetail row (each a
//! period of the relationship), and a contacts export that carries
//! StudentContactAssoc and Person columns side by side under the name
//! `contacts.txt`.
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::HashMap;

use ferry_gen::PsGenOptions;
use ferry_plugin_powerschool::PowerSchoolPlugin;
use ferry_sdk::model::{Contact, Relationship, StudentContact};
use ferry_sdk::serde_json::json;
use ferry_sdk::testkit;

#[test]
fn every_detail_row_is_a_period_of_the_relationship() {
    let dir = tempfile::tempdir().unwrap();
    let m = ferry_gen::powerschool(&PsGenOptions::full_district(300, 7), dir.path()).unwrap();
    let out = testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": dir.path() }), dir.path(), 1000)
        .unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects.first());
    let links: Vec<StudentContact> = out.records().unwrap();
    let assocs = m.file("studentcontactassoc.txt").unwrap().rows;
    let details = m.file("studentcontactdetail.txt").unwrap().rows;
    assert!(details > assocs, "the generator writes earlier periods");
    // One record per detail row (every association has at least one).
    assert_eq!(links.len() as u64, details);
    // The current period keeps the association's id; earlier ones are `<assoc>:<detail>`.
    let mut by_assoc: HashMap<&str, Vec<&StudentContact>> = HashMap::new();
    for l in &links {
        let assoc = l.meta.source.id.split(':').next().unwrap();
        by_assoc.entry(assoc).or_default().push(l);
    }
    assert_eq!(by_assoc.len() as u64, assocs);
    let (_, periods) = by_assoc.iter().find(|(_, v)| v.len() > 1).unwrap();
    let earlier = periods.iter().find(|l| l.meta.source.id.contains(':')).unwrap();
    let current = periods.iter().find(|l| !l.meta.source.id.contains(':')).unwrap();
    assert!(earlier.end_date.is_some(), "a closed period has its end date");
    assert!(earlier.end_date <= current.start_date.or(earlier.end_date));
    assert!(links.iter().any(|l| l.school_pickup.is_some()), "pickup is a field of model 2.2");
}

#[test]
fn a_contacts_export_named_contacts_txt_becomes_contacts_and_student_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("schools.txt"), "ID\tDCID\tSchool_Number\tName\n1\t1\t100\tMaple\n").unwrap();
    std::fs::write(
        d.join("students.txt"),
        "ID\tDCID\tStudent_Number\tFirst_Name\tLast_Name\tSchoolID\tGrade_Level\tEnroll_Status\n\
         1\t77\t000123\tJosé\tNúñez\t100\t5\t0\n2\t78\t000124\tZoë\tLi\t100\t5\t0\n",
    )
    .unwrap();
    std::fs::write(
        d.join("contacts.txt"),
        "StudentDCID\tStudentContactAssocID\tPersonID\tContactPriorityOrder\tRelationshipType\tFirstName\tLastName\tEmail\tPhone\tPhoneType\tIsCustodial\tSchoolPickupFlg\n\
         77\t501\t9\t1\tMother\tAna\tNúñez\tana@x.org\t555-1000\tMobile\t1\t1\n\
         78\t502\t9\t2\tAunt\tAna\tNúñez\tana@x.org\t555-1000\tMobile\t0\t0\n\
         79\t503\t10\t1\tFather\tBo\tLi\t\t\t\t1\t1\n",
    )
    .unwrap();
    let out = testkit::run_source::<PowerSchoolPlugin>(&json!({ "directory": d }), d, 100).unwrap();
    let contacts: Vec<Contact> = out.records().unwrap();
    assert_eq!(contacts.len(), 2, "one contact per person, not per row");
    let ana = contacts.iter().find(|c| c.meta.source.id == "9").unwrap();
    assert_eq!((ana.first_name.as_str(), ana.phone_mobile.as_deref()), ("Ana", Some("555-1000")));
    let links: Vec<StudentContact> = out.records().unwrap();
    assert_eq!(links.len(), 2);
    let mother = links.iter().find(|l| l.meta.source.id == "501").unwrap();
    assert_eq!(
        (mother.student_id.as_deref(), mother.contact_id.as_deref(), mother.custodial, mother.school_pickup),
        (Some("77"), Some("9"), Some(true), Some(true))
    );
    assert_eq!(mother.relationship.as_ref().unwrap().code, Relationship::Mother);
    // The third row names a student the export does not have: a reject, not a loss.
    assert_eq!(out.rejects.len(), 1);
    assert_eq!((out.rejects[0].file.as_str(), out.rejects[0].line), ("contacts.txt", 4));
}
