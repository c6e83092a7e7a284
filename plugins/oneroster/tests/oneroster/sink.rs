use ferry_oneroster::validate::{Options, validate_path};
use ferry_sdk::model::{Code, Course, EntityKind, Meta, Org, Section};

use super::*;

fn write_to(out: &Path, version: &str, input: &SourceOutput, dry_run: bool) -> testkit::SinkOutcome {
    testkit::run_sink_with::<OneRosterPlugin>(
        &json!({ "path": out.to_str().unwrap(), "version": version }),
        Path::new("."),
        input,
        dry_run,
    )
    .unwrap()
}

fn assert_valid(path: &Path) {
    let report = validate_path(path, &Options::default()).unwrap();
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| format!("{} {}", p.location(), p.message))
        .collect();
    assert!(report.valid, "{}", errors.join("\n"));
}

#[test]
fn the_sample_is_written_back_as_valid_1_1_and_1_2_packages() {
    let input = read(&sample()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (version, target) in [("1.1", dir.path().join("out11")), ("1.2", dir.path().join("out12.zip"))] {
        let o = write_to(&target, version, &input, false);
        assert!(o.rejects.is_empty(), "{version}: {:?}", o.rejects);
        assert_valid(&target);
    }
    assert!(dir.path().join("out11/users.csv").is_file());
    let users = std::fs::read_to_string(dir.path().join("out11/users.csv")).unwrap();
    assert!(
        users.starts_with("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"),
        "{users}"
    );
}

#[test]
fn a_dry_run_writes_nothing_and_what_cannot_be_placed_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = SourceOutput::default();
    let school = Org {
        meta: Meta::new("x", "s1"),
        name: "High".into(),
        kind: Some(Code::normalize("school")),
        ..Org::default()
    };
    input.push(&[school]).unwrap();
    let course = Course {
        meta: Meta::new("x", "c1"),
        title: "Algebra".into(),
        course_number: Some("ALG".into()),
        org_id: Some("s1".into()),
        ..Course::default()
    };
    input.push(&[course]).unwrap();
    let orphan = Section {
        meta: Meta::new("x", "k1"),
        course_id: Some("nope".into()),
        school_id: Some("s1".into()),
        session_ids: vec!["t".into()],
        ..Section::default()
    };
    let no_terms = Section {
        meta: Meta::new("x", "k2"),
        course_id: Some("c1".into()),
        school_id: Some("s1".into()),
        ..Section::default()
    };
    let bad_id =
        Section { meta: Meta::new("x", "k".repeat(300)), course_id: Some("c1".into()), ..Section::default() };
    input.push(&[orphan, no_terms, bad_id]).unwrap();
    let target = dir.path().join("out.zip");
    let o = write_to(&target, "1.2", &input, true);
    assert!(!target.exists(), "a dry run writes nothing");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary either");
    let reasons: Vec<(&str, &str)> =
        o.rejects.iter().map(|r| (r.record_id.as_str(), r.reason.as_str())).collect();
    assert_eq!(o.rejects.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().any(|(id, r)| *id == "k1" && r.contains("its course was not sent")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|(id, r)| *id == "k2" && r.contains("termSourcedIds")), "{reasons:?}");
    assert!(reasons.iter().any(|(id, r)| id.len() == 300 && r.contains("sourcedId")), "{reasons:?}");
    assert!(o.rejects.iter().all(|r| r.entity == EntityKind::Sections));
    let plan = o.plan.iter().find(|p| p.entity == "sections").unwrap();
    assert_eq!((plan.create, plan.reject), (0, 2), "the bad id was refused at write");
}

#[test]
fn a_1_2_gradebook_is_read_and_written_back() {
    use ferry_sdk::model::{LineItem, LineItemCategory, LineItemResult, ScoreStatus};
    let dir = tempfile::tempdir().unwrap();
    let p = package(
        &dir.path().join("in"),
        &[
            (
                "manifest.csv",
                "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.orgs,bulk\nfile.academicSessions,bulk\nfile.courses,bulk\nfile.classes,bulk\nfile.users,bulk\nfile.roles,bulk\nfile.categories,bulk\nfile.lineItems,bulk\nfile.results,bulk\n",
            ),
            (
                "orgs.csv",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\ns1,,,School,school,,\n",
            ),
            (
                "academicSessions.csv",
                "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\nt1,,,Fall,term,2024-08-15,2024-12-20,,2025\n",
            ),
            (
                "courses.csv",
                "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\nc1,,,,Algebra,ALG,,s1,,\n",
            ),
            (
                "classes.csv",
                "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\nk1,,,Algebra 1,,c1,1,scheduled,,s1,t1,,,\n",
            ),
            (
                "users.csv",
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\nu1,,,true,ann,,Ann,Lee,,,,,,,09,,,,,,s1,\n",
            ),
            (
                "roles.csv",
                "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\nr1,,,u1,primary,student,,,s1,\n",
            ),
            ("categories.csv", "sourcedId,status,dateLastModified,title,weight\ng1,,,Homework,40\n"),
            (
                "lineItems.csv",
                "sourcedId,status,dateLastModified,title,description,assignDate,dueDate,classSourcedId,categorySourcedId,academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId\nl1,,,Essay,,2024-09-01,2024-09-08,k1,g1,t1,0,10,s1\nl2,,,Orphan,,2024-09-01,2024-09-08,nope,g1,t1,,,s1\n",
            ),
            (
                "results.csv",
                "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,textScore,classSourcedId,inProgress,incomplete,late,missing\nx1,,,l1,u1,fully graded,9.5,2024-09-10,,,k1,,,true,false\nx2,,,l1,u1,graded,,2024-09-10,,,k1,,,,\n",
            ),
        ],
    );
    let input = read(&p).unwrap();
    let cats: Vec<LineItemCategory> = input.records().unwrap();
    assert_eq!(cats[0].weight.map(|w| w.to_string()).as_deref(), Some("40"));
    let items: Vec<LineItem> = input.records().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].points_possible.map(|w| w.to_string()).as_deref(), Some("10"));
    let results: Vec<LineItemResult> = input.records().unwrap();
    assert_eq!(results.len(), 2, "an unknown status is a warning on an optional field");
    assert_eq!(results[0].status.as_ref().unwrap().code, ScoreStatus::FullyGraded);
    assert_eq!(results[0].late, Some(true));
    assert!(input.warnings.iter().any(|w| w.field == "status" && w.line == 3), "{:?}", input.warnings);
    let out = dir.path().join("out.zip");
    let o = write_to(&out, "1.2", &input, false);
    let reasons: Vec<&str> = o.rejects.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(o.rejects.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("its section was not written")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("no status and no score")), "{reasons:?}");
    assert_valid(&out);
}

#[test]
fn a_delta_package_is_written_with_status_and_times() {
    let input = read(&sample()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("delta");
    let o = testkit::run_sink_with::<OneRosterPlugin>(
        &json!({ "path": out.to_str().unwrap(), "version": "1.2", "delta": true }),
        Path::new("."),
        &input,
        false,
    )
    .unwrap();
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    assert_valid(&out);
    let manifest = std::fs::read_to_string(out.join("manifest.csv")).unwrap();
    assert!(manifest.contains("file.users,delta"), "{manifest}");
    let orgs = std::fs::read_to_string(out.join("orgs.csv")).unwrap();
    assert!(orgs.lines().nth(1).unwrap().starts_with("lv-district,active,20"), "{orgs}");
}

#[test]
fn a_student_and_a_teacher_sharing_an_id_become_two_users() {
    use ferry_sdk::model::{AcademicSession, SectionStaff, Staff, Student};
    let mut input = SourceOutput::default();
    let school = Org {
        meta: Meta::new("x", "s1"),
        name: "High".into(),
        kind: Some(Code::normalize("school")),
        ..Org::default()
    };
    input.push(&[school]).unwrap();
    let term = AcademicSession {
        meta: Meta::new("x", "t1"),
        kind: Some(Code::normalize("term")),
        title: "Fall".into(),
        start_date: ferry_sdk::model::Date::new(2024, 8, 15).ok(),
        end_date: ferry_sdk::model::Date::new(2024, 12, 20).ok(),
        ..AcademicSession::default()
    };
    input.push(&[term]).unwrap();
    let kid = Student {
        meta: Meta::new("x", "1"),
        first_name: "Ann".into(),
        last_name: "Lee".into(),
        school_id: Some("s1".into()),
        ..Student::default()
    };
    input.push(&[kid]).unwrap();
    let teacher = Staff {
        meta: Meta::new("x", "1"),
        first_name: "Tom".into(),
        last_name: "Ray".into(),
        school_id: Some("s1".into()),
        ..Staff::default()
    };
    input.push(&[teacher]).unwrap();
    let course = Course {
        meta: Meta::new("x", "c1"),
        title: "Algebra".into(),
        course_number: Some("ALG".into()),
        org_id: Some("s1".into()),
        ..Course::default()
    };
    input.push(&[course]).unwrap();
    let class = Section {
        meta: Meta::new("x", "k1"),
        course_id: Some("c1".into()),
        school_id: Some("s1".into()),
        session_ids: vec!["t1".into()],
        ..Section::default()
    };
    input.push(&[class]).unwrap();
    let teaches = SectionStaff {
        meta: Meta::new("x", "e1"),
        section_id: Some("k1".into()),
        staff_id: Some("1".into()),
        ..SectionStaff::default()
    };
    input.push(&[teaches]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pkg");
    let o = write_to(&out, "1.2", &input, false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    assert_eq!(o.late_warnings.len(), 1, "{:?}", o.late_warnings);
    assert_eq!(o.late_warnings[0].entity, EntityKind::Staff);
    assert_valid(&out);
    let users = std::fs::read_to_string(out.join("users.csv")).unwrap();
    assert!(users.lines().any(|l| l.starts_with("1,") && l.contains("Ann")), "{users}");
    assert!(users.lines().any(|l| l.starts_with("staff-1,") && l.contains("Tom")), "{users}");
    let enr = std::fs::read_to_string(out.join("enrollments.csv")).unwrap();
    assert!(enr.lines().nth(1).unwrap().contains(",staff-1,teacher,true"), "{enr}");
}

#[test]
fn a_delta_against_a_previous_package_holds_only_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    let previous = dir.path().join("previous");
    let o = write_to(&previous, "1.1", &read(&sample()).unwrap(), false);
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    // Since then: the school was renamed and one enrollment was dropped.
    let now = dir.path().join("now");
    std::fs::create_dir(&now).unwrap();
    for e in std::fs::read_dir(sample()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), now.join(e.file_name())).unwrap();
    }
    let orgs = std::fs::read_to_string(now.join("orgs.csv")).unwrap();
    std::fs::write(now.join("orgs.csv"), orgs.replace("Lakeview High School", "Lakeview Senior High"))
        .unwrap();
    let enrollments = std::fs::read_to_string(now.join("enrollments.csv")).unwrap();
    let dropped = enrollments.lines().nth(5).unwrap().split(',').next().unwrap().to_owned();
    let kept: Vec<&str> = enrollments.lines().enumerate().filter(|(i, _)| *i != 5).map(|(_, l)| l).collect();
    std::fs::write(now.join("enrollments.csv"), kept.join("\n")).unwrap();

    let out = dir.path().join("delta");
    let o = testkit::run_sink_with::<OneRosterPlugin>(
        &json!({ "path": out.to_str().unwrap(), "version": "1.1", "against": previous.to_str().unwrap() }),
        Path::new("."),
        &read(&now).unwrap(),
        false,
    )
    .unwrap();
    assert!(o.rejects.is_empty(), "{:?}", o.rejects);
    assert_valid(&out);
    let manifest = std::fs::read_to_string(out.join("manifest.csv")).unwrap();
    assert!(manifest.contains("file.orgs,delta"), "{manifest}");
    let orgs = std::fs::read_to_string(out.join("orgs.csv")).unwrap();
    let rows: Vec<&str> = orgs.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "only the renamed school: {orgs}");
    assert!(rows[0].starts_with("lv-hs,active,") && rows[0].contains("Lakeview Senior High"), "{orgs}");
    let enr = std::fs::read_to_string(out.join("enrollments.csv")).unwrap();
    let rows: Vec<&str> = enr.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "only the dropped enrollment: {enr}");
    assert!(rows[0].starts_with(&format!("{dropped},tobedeleted,")), "{enr}");
    assert!(rows[0].contains("lv-hs"), "its previous values are kept: {enr}");
    assert!(!out.join("users.csv").exists(), "no user changed, so no users.csv");
    assert!(manifest.contains("file.users,absent"), "{manifest}");
}
