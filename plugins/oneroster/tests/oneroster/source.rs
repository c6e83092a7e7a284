use ferry_sdk::model::{
    AcademicSession, Course, Demographics, EntityKind, GradeLevel, Operation, Org, OrgKind, Relationship,
    Section, SectionEnrollment, SectionRole, SectionStaff, Sex, Staff, StaffAssignment, StaffRole, Student,
    StudentContact,
};

use super::*;

#[test]
fn the_bundled_sample_loads_and_its_problems_are_reported() {
    let out = read(&sample()).unwrap();
    let orgs: Vec<Org> = out.records().unwrap();
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[1].kind.as_ref().unwrap().code, OrgKind::School);
    assert_eq!(orgs[1].parent_id.as_deref(), Some("lv-district"));
    let sessions: Vec<AcademicSession> = out.records().unwrap();
    assert_eq!(sessions.len(), 3);
    let courses: Vec<Course> = out.records().unwrap();
    assert_eq!(courses.len(), 2);
    let sections: Vec<Section> = out.records().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0].session_ids.len(), 2);
    let students: Vec<Student> = out.records().unwrap();
    assert_eq!(students.len(), 8);
    let mary = students.iter().find(|s| s.meta.source.id == "7001").unwrap();
    assert_eq!(mary.first_name, "Ana");
    assert_eq!(mary.school_id.as_deref(), Some("lv-hs"));
    assert_eq!(mary.grade_level.as_ref().unwrap().code, GradeLevel::Grade09);
    assert_eq!(mary.meta.alt_id("Local"), Some("001"));
    assert_eq!(mary.sex.as_ref().unwrap().code, Sex::Female, "from demographics.csv");
    assert!(mary.birth_date.is_some());
    let origin = mary.meta.origin.as_ref().unwrap();
    assert_eq!((origin.file.as_str(), origin.line), ("users.csv", 2));
    let staff: Vec<Staff> = out.records().unwrap();
    assert_eq!(staff.len(), 2);
    assert!(staff.iter().all(|s| s.role.as_ref().unwrap().code == StaffRole::Teacher));
    let demo: Vec<Demographics> = out.records().unwrap();
    assert_eq!(demo.len(), 8);
    let enr: Vec<SectionEnrollment> = out.records().unwrap();
    let teach: Vec<SectionStaff> = out.records().unwrap();
    assert_eq!(enr.len() + teach.len(), 24, "every enrollment row");
    assert!(teach.iter().all(|t| t.role.as_ref().unwrap().code == SectionRole::Lead));
    let assignments: Vec<StaffAssignment> = out.records().unwrap();
    assert_eq!(assignments.len(), 2);
    // The sample's problems: two users.csv rows with an extra field.
    let all = out.notices.join("\n");
    assert!(all.contains("error users.csv:10:19 (beyond the header): the row has 19 fields"), "{all}");
    assert!(all.contains("users.csv:11"), "{all}");
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
}

#[test]
fn a_1_2_delta_package_with_roles_agents_and_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = package(
        dir.path(),
        &[
            (
                "manifest.csv",
                "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,delta\nfile.users,delta\nfile.roles,delta\nfile.academicSessions,absent\n",
            ),
            (
                "orgs.csv",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,active,2025-01-02T03:04:05.000Z,District,district,,\ns1,active,2025-01-02T03:04:05.000Z,School,school,,d1\ns9,tobedeleted,2025-01-03,Old,school,,d1\nbad,active,2025-01-02T03:04:05.000Z,Bad,campus,,\n",
            ),
            (
                "users.csv",
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n\
u1,active,2025-01-02T03:04:05.000Z,true,kid,\"{state:TX1},{LDAP:kid}\",Kid,One,,000123,,,,p1,KG,,M1,Kiddo,,,s1,\n\
p1,active,2025-01-02T03:04:05.000Z,true,mom,,Mom,One,,,,555,,u1,,,,,,,,\n\
t1,active,2025-01-02T03:04:05.000Z,false,tea,,Tea,Cher,,T9,,,,,,,,,,,s1,\n\
x1,active,2025-01-02T03:04:05.000Z,true,x,,X,Y,,,,,,,,,,,,,,\n",
            ),
            (
                "roles.csv",
                "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n\
r1,active,2025-01-02T03:04:05.000Z,u1,primary,student,,,s1,\n\
r2,active,2025-01-02T03:04:05.000Z,p1,primary,parent,,,s1,\n\
r3,active,2025-01-02T03:04:05.000Z,t1,primary,teacher,2024-08-01,,s1,\n\
r4,active,2025-01-02T03:04:05.000Z,t1,secondary,principal,2024-08-01,2025-06-30,d1,\n\
r5,active,2025-01-02T03:04:05.000Z,x1,primary,janitor,,,s1,\n",
            ),
        ],
    );
    let out = read(&p).unwrap();
    let orgs: Vec<Org> = out.records().unwrap();
    assert_eq!(orgs.len(), 3, "bad has an unknown type: rejected (kind is required)");
    assert_eq!(orgs[2].meta.op, Operation::Delete);
    assert!(orgs[2].meta.modified_at.is_some());
    let bad = out.rejects_of(EntityKind::Orgs);
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].file.as_str(), bad[0].line, bad[0].field.as_str()), ("orgs.csv", 5, "kind"));
    assert!(out.warnings.iter().any(|w| w.field == "dateLastModified" && w.line == 4), "{:?}", out.warnings);
    let students: Vec<Student> = out.records().unwrap();
    assert_eq!(students.len(), 1);
    assert_eq!(students[0].state_id.as_deref(), Some("TX1"));
    assert_eq!(students[0].preferred_name.as_deref(), Some("Kiddo"));
    assert_eq!(students[0].meta.alt_id("userMasterIdentifier"), Some("M1"));
    let staff: Vec<Staff> = out.records().unwrap();
    assert_eq!(staff.len(), 1);
    assert_eq!(staff[0].active, Some(false));
    let a: Vec<StaffAssignment> = out.records().unwrap();
    assert_eq!(a.len(), 2);
    assert_eq!(a[1].meta.source.id, "r4");
    assert_eq!(a[1].role.as_ref().unwrap().original, "principal");
    assert!(a[1].end_date.is_some());
    let links: Vec<StudentContact> = out.records().unwrap();
    assert_eq!(links.len(), 1, "agents on both sides make one relationship");
    assert_eq!(links[0].relationship.as_ref().unwrap().code, Relationship::Parent);
    let users = out.rejects_of(EntityKind::Students);
    assert_eq!(users.len(), 1, "x1's only role is unknown: {:?}", out.rejects);
    assert_eq!((users[0].file.as_str(), users[0].line), ("users.csv", 5));
}
