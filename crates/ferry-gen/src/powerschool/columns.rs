//! The column names of every export table, in file order, as PowerSchool
//! exports them (custom fields as `U_…` / `S_NJ_…` table-qualified names).
//! Tables and columns written only with
//! [`PsGenOptions::district_tables`](super::options::PsGenOptions),
//! `secrets` or `contacts_export` follow the core ones.

/// Schools (`schools.txt`).
pub(super) const SCHOOLS: &[&str] = &[
    "ID",
    "DCID",
    "School_Number",
    "Name",
    "Abbreviation",
    "Low_Grade",
    "High_Grade",
    "Alternate_School_Number",
    "SchoolAddress",
    "SchoolCity",
    "SchoolState",
    "SchoolZip",
    "SchoolPhone",
    "Principal",
    "District_Number",
    "State_ExcludeFromReporting",
    "IsSummerSchool",
    "SortOrder",
];

/// Terms (`terms.txt`).
pub(super) const TERMS: &[&str] = &[
    "ID",
    "DCID",
    "SchoolID",
    "YearID",
    "Name",
    "Abbreviation",
    "FirstDay",
    "LastDay",
    "IsYearRec",
    "Portion",
    "NoOfDays",
];

/// Gen (`gen.txt`).
pub(super) const GENS: &[&str] =
    &["ID", "DCID", "Cat", "Name", "Value", "ValueLI", "SchoolID", "YearID", "SortOrder"];

/// Attendance_Code (`attendance_code.txt`).
pub(super) const ATT_CODE: &[&str] = &[
    "ID",
    "DCID",
    "SchoolID",
    "YearID",
    "Att_Code",
    "Description",
    "Presence_Status_CD",
    "Calculate_ADA_YN",
    "Calculate_ADM_YN",
    "Course_Credit_Points",
    "Alternate_Code",
    "SortOrder",
];

/// Period (`period.txt`).
pub(super) const PERIOD: &[&str] =
    &["ID", "DCID", "SchoolID", "Year_ID", "Period_Number", "Abbreviation", "Name", "Sort_Order"];

/// Calendar_Day (`calendar_day.txt`).
pub(super) const CALENDAR: &[&str] = &[
    "ID",
    "DCID",
    "SchoolID",
    "Date_Value",
    "InSession",
    "MembershipValue",
    "Type",
    "Note",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "Week_Num",
];

/// Students (`students.txt`).
pub(super) const STUDENTS: &[&str] = &[
    "ID",
    "DCID",
    "Student_Number",
    "State_StudentNumber",
    "First_Name",
    "Middle_Name",
    "Last_Name",
    "LastFirst",
    "DOB",
    "Gender",
    "Grade_Level",
    "SchoolID",
    "Enroll_Status",
    "EntryDate",
    "ExitDate",
    "EntryCode",
    "ExitCode",
    "ExitComment",
    "SchoolEntryDate",
    "DistrictEntryDate",
    "Ethnicity",
    "FedEthnicity",
    "FedRaceDecline",
    "Street",
    "City",
    "State",
    "Zip",
    "Mailing_Street",
    "Mailing_City",
    "Mailing_State",
    "Mailing_Zip",
    "Home_Phone",
    "Home_Room",
    "Next_School",
    "Sched_NextYearGrade",
    "ClassOf",
    "Student_Web_ID",
    "Mother",
    "Father",
    "GuardianEmail",
    "Emerg_Contact_1",
    "Emerg_Phone_1",
    "State_ExcludeFromReporting",
    "Track",
    "FTEID",
    "Transaction_Date",
    "U_StudentsUserFields.Locker_Number",
    "S_NJ_STU_X.Homeless_Code",
];

/// StudentRace (`studentrace.txt`).
pub(super) const RACE: &[&str] = &["ID", "DCID", "StudentID", "RaceCD"];

/// ReEnrollments (`reenrollments.txt`).
pub(super) const REENROLL: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SchoolID",
    "Grade_Level",
    "EntryDate",
    "ExitDate",
    "EntryCode",
    "EntryComment",
    "ExitCode",
    "ExitComment",
    "Track",
    "FTEID",
    "MembershipShare",
    "EnrollmentCode",
    "EnrollmentType",
    "DistrictOfResidence",
    "LunchStatus",
    "TuitionPayer",
];

/// Users (`users.txt`).
pub(super) const USERS: &[&str] = &[
    "DCID",
    "HomeSchoolID",
    "TeacherNumber",
    "First_Name",
    "Middle_Name",
    "Last_Name",
    "LastFirst",
    "Email_Addr",
    "TeacherLoginID",
    "Title",
    "SIF_StatePrID",
    "PreferredName",
    "Home_Phone",
    "FedEthnicity",
];

/// SchoolStaff (`schoolstaff.txt`).
pub(super) const STAFF: &[&str] = &[
    "ID",
    "DCID",
    "Users_DCID",
    "SchoolID",
    "Status",
    "StaffStatus",
    "Sched_Classroom",
    "Sched_Department",
    "Sched_MaximumCourses",
];

/// Courses (`courses.txt`).
pub(super) const COURSES: &[&str] = &[
    "ID",
    "DCID",
    "Course_Number",
    "Course_Name",
    "Credit_Hours",
    "CreditType",
    "SchoolID",
    "ExcludeFromGPA",
    "ExcludeFromStoredGrades",
    "GradeScaleID",
    "Sched_Department",
    "Alt_Course_Number",
    "MultiTerm",
];

/// Sections (`sections.txt`).
pub(super) const SECTIONS: &[&str] = &[
    "ID",
    "DCID",
    "SchoolID",
    "Course_Number",
    "Section_Number",
    "TermID",
    "Teacher",
    "Room",
    "Expression",
    "Attendance_Type_Code",
    "Att_Mode_Code",
    "MaxEnrollment",
    "No_of_Students",
    "Grade_Level",
    "GradebookType",
];

/// CC (`cc.txt`).
pub(super) const CC: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SectionID",
    "TermID",
    "SchoolID",
    "Course_Number",
    "Section_Number",
    "DateEnrolled",
    "DateLeft",
    "Expression",
    "TeacherID",
    "CurrentAbsences",
    "CurrentTardies",
];

/// StoredGrades (`storedgrades.txt`).
pub(super) const STORED: &[&str] = &[
    "DCID",
    "ID",
    "StudentID",
    "SchoolID",
    "SchoolName",
    "Course_Number",
    "Course_Name",
    "SectionID",
    "TermID",
    "StoreCode",
    "Grade",
    "Percent",
    "GPA_Points",
    "EarnedCrHrs",
    "PotentialCrHrs",
    "Credit_Type",
    "Grade_Level",
    "DateStored",
    "Teacher_Name",
    "ExcludeFromGPA",
    "ExcludeFromClassRank",
    "ExcludeFromTranscripts",
    "Comment_Value",
];

/// PGFinalGrades (`pgfinalgrades.txt`).
pub(super) const PG: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SectionID",
    "FinalGradeName",
    "StartDate",
    "EndDate",
    "Grade",
    "Percent",
    "Points",
    "PointsPossible",
    "Citizenship",
    "Comment_Value",
    "VarCredit",
    "OverrideFG",
    "IsIncomplete",
    "IsExempt",
    "LastGradeUpdate",
];

/// Attendance (`attendance.txt`).
pub(super) const ATTENDANCE: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SchoolID",
    "YearID",
    "Att_Date",
    "Attendance_CodeID",
    "Att_Mode_Code",
    "CCID",
    "PeriodID",
    "Calendar_DayID",
    "Att_Comment",
    "Total_Minutes",
    "Att_Interval",
    "Lock_Teacher_YN",
    "Lock_Reporting_YN",
    "ProgramID",
];

/// Person (`person.txt`).
pub(super) const PERSON: &[&str] =
    &["ID", "DCID", "FirstName", "MiddleName", "LastName", "GenderCodeSetID", "Employer", "IsActive"];

/// StudentContactAssoc (`studentcontactassoc.txt`).
pub(super) const ASSOC: &[&str] =
    &["StudentContactAssocID", "StudentDCID", "PersonID", "ContactPriorityOrder", "CurrRelTypeCodeSetID"];

/// StudentContactDetail (`studentcontactdetail.txt`).
pub(super) const DETAIL: &[&str] = &[
    "StudentContactDetailID",
    "StudentContactAssocID",
    "RelationshipTypeCodeSetID",
    "IsActive",
    "IsCustodial",
    "IsEmergency",
    "LivesWithFlg",
    "SchoolPickupFlg",
    "ReceivesMailFlg",
    "StartDate",
    "EndDate",
    "RelationshipNote",
];

/// CodeSet (`codeset.txt`).
pub(super) const CODESET: &[&str] = &["CodeSetID", "Code", "CodeType", "DisplayValue", "Description"];

/// EmailAddress (`emailaddress.txt`).
pub(super) const EMAIL: &[&str] = &["EmailAddressID", "EmailAddress"];

/// PersonEmailAddressAssoc (`personemailaddressassoc.txt`).
pub(super) const PERSON_EMAIL: &[&str] = &[
    "PersonEmailAddressAssocID",
    "PersonID",
    "EmailAddressID",
    "EmailTypeCodeSetID",
    "IsPrimaryEmailAddress",
    "EmailAddressPriorityOrder",
];

/// PhoneNumber (`phonenumber.txt`).
pub(super) const PHONE: &[&str] = &["PhoneNumberID", "PhoneNumber", "PhoneNumberExt", "IsSMS"];

/// PersonPhoneNumberAssoc (`personphonenumberassoc.txt`).
pub(super) const PERSON_PHONE: &[&str] = &[
    "PersonPhoneNumberAssocID",
    "PersonID",
    "PhoneNumberID",
    "PhoneTypeCodeSetID",
    "IsPreferred",
    "PhoneNumberPriorityOrder",
    "PhoneNumberAsEntered",
];

/// PersonAddress (`personaddress.txt`).
pub(super) const ADDRESS: &[&str] =
    &["PersonAddressID", "Street", "LineTwo", "Unit", "City", "StatesCodeSetID", "PostalCode"];

/// PersonAddressAssoc (`personaddressassoc.txt`).
pub(super) const PERSON_ADDRESS: &[&str] =
    &["PersonAddressAssocID", "PersonID", "PersonAddressID", "AddressTypeCodeSetID", "AddressPriorityOrder"];

// ---------------------------------------------------------------------------
// With `district_tables`, `secrets` or `contacts_export`.

/// Calendar_Day with its cycle day and bell schedule (`district_tables`).
pub(super) const CALENDAR_DISTRICT: &[&str] = &[
    "ID",
    "DCID",
    "SchoolID",
    "Date_Value",
    "InSession",
    "MembershipValue",
    "Cycle_Day_ID",
    "Bell_Schedule_ID",
    "Type",
    "Note",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "Week_Num",
];

/// StudentContactDetail with the communication flags (`district_tables`).
pub(super) const DETAIL_DISTRICT: &[&str] = &[
    "StudentContactDetailID",
    "StudentContactAssocID",
    "RelationshipTypeCodeSetID",
    "IsActive",
    "IsCustodial",
    "IsEmergency",
    "LivesWithFlg",
    "SchoolPickupFlg",
    "ReceivesMailFlg",
    "ConfidentialCommFlag",
    "GeneralCommFlag",
    "StartDate",
    "EndDate",
    "RelationshipNote",
];

/// The columns a full Students export carries after its other columns
/// (`secrets`): the secrets ([`STUDENT_SECRETS`]) and two that look like them
/// but are not (the parent portal's login name, the locker's number).
/// `Student_Web_ID`, the student's login name, is a core column.
pub(super) const STUDENT_EXTRA: &[&str] =
    &["SSN", "Student_Web_Password", "Web_ID", "Web_Password", "LockerCombination", "Locker_Number"];

/// The secrets among [`STUDENT_EXTRA`]: what a reader must leave out by default.
pub(super) const STUDENT_SECRETS: &[&str] =
    &["SSN", "Student_Web_Password", "Web_Password", "LockerCombination"];

/// Cycle_Day (`cycle_day.txt`).
pub(super) const CYCLE_DAY: &[&str] =
    &["ID", "DCID", "SchoolID", "Year_ID", "Letter", "Day_Number", "Abbreviation", "Day_Name", "SortOrder"];

/// Bell_Schedule (`bell_schedule.txt`).
pub(super) const BELL_SCHEDULE: &[&str] =
    &["ID", "DCID", "SchoolID", "Year_ID", "Name", "Attendance_Conversion_ID"];

/// Bell_Schedule_Items (`bell_schedule_items.txt`); times in seconds after
/// midnight.
pub(super) const BELL_ITEMS: &[&str] = &[
    "ID",
    "DCID",
    "Bell_Schedule_ID",
    "Period_ID",
    "Start_Time",
    "End_Time",
    "Total_Minutes",
    "Daily_Ada_Code",
];

/// RoleDef (`roledef.txt`).
pub(super) const ROLEDEF: &[&str] = &["ID", "DCID", "Name", "Description", "SortOrder"];

/// SectionTeacher (`sectionteacher.txt`).
pub(super) const SECTION_TEACHER: &[&str] = &[
    "ID",
    "DCID",
    "SectionID",
    "TeacherID",
    "RoleID",
    "Allocation",
    "Start_Date",
    "End_Date",
    "Priority_Order",
];

/// Log (`log.txt`).
pub(super) const LOG: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SchoolID",
    "LogTypeID",
    "Entry_Date",
    "Entry_Time",
    "Entry_Author",
    "Subject",
    "Entry",
    "Subtype",
    "Consequence",
    "Discipline_IncidentType",
    "Discipline_ActionTaken",
    "Discipline_DurationAssigned",
    "Discipline_DurationActual",
    "Discipline_IncidentDate",
    "Discipline_IncidentLocation",
];

/// SPEnrollments (`spenrollments.txt`).
pub(super) const SPENROLL: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "ProgramID",
    "SchoolID",
    "EnterDate",
    "ExitDate",
    "Code1",
    "Code2",
    "ExitCode",
    "Grade_Level",
    "Sp_Comment",
];

/// Test (`test.txt`).
pub(super) const TEST: &[&str] = &["ID", "DCID", "Name", "Description", "TestType"];

/// TestScore (`testscore.txt`).
pub(super) const TEST_SCORE: &[&str] = &["ID", "DCID", "TestID", "Name", "Description", "SortOrder"];

/// StudentTest (`studenttest.txt`).
pub(super) const STUDENT_TEST: &[&str] =
    &["ID", "DCID", "StudentID", "TestID", "Test_Date", "Grade_Level", "SchoolID", "TermID"];

/// StudentTestScore (`studenttestscore.txt`).
pub(super) const STUDENT_TEST_SCORE: &[&str] =
    &["ID", "DCID", "StudentTestID", "TestScoreID", "NumScore", "PercentScore", "AlphaScore", "StudentID"];

/// ClassRank (`classrank.txt`).
pub(super) const CLASS_RANK: &[&str] = &[
    "ID",
    "DCID",
    "StudentID",
    "SchoolID",
    "YearID",
    "GPAMethod",
    "GPA",
    "Rank",
    "OutOf",
    "Percentile",
    "DateRanked",
];

/// U_StudentsUserFields (`u_studentsuserfields.txt`), the district's 1:1
/// extension of Students.
pub(super) const U_STUDENTS: &[&str] = &[
    "StudentsDCID",
    "Bus_Route",
    "Bus_Stop",
    "Photo_Release",
    "Internet_Agreement",
    "Home_Language",
    "Graduation_Plan",
    "Medical_Alert",
];

/// S_TX_STU_X (`s_tx_stu_x.txt`), a state reporting extension of Students.
pub(super) const S_TX_STU: &[&str] = &[
    "StudentsDCID",
    "Economic_Disadvantage",
    "LEP_Indicator",
    "ESL_Program_Type",
    "Special_Ed_Indicator",
    "Section_504_Indicator",
    "Gifted_Talented_Indicator",
    "Title_I_Part_A_Indicator",
    "Homeless_Status_Code",
    "Migrant_Indicator",
    "Military_Connected_Code",
    "Dyslexia_Indicator",
    "At_Risk_Indicator",
];

/// Incident (`incident.txt`).
pub(super) const INCIDENT: &[&str] = &[
    "Incident_ID",
    "School_Number",
    "Incident_TS",
    "Incident_Title",
    "Incident_Detail_Desc",
    "Location_Details",
    "Created_By",
    "Created_TS",
    "Last_Modified_By",
    "Last_Modified_TS",
];

/// Incident_LU_Code (`incident_lu_code.txt`).
pub(super) const INCIDENT_LU_CODE: &[&str] = &[
    "LU_Code_ID",
    "Code_Type",
    "Incident_Category",
    "Short_Desc",
    "Long_Desc",
    "State_Aggregate_Rpt_Code",
    "Sort_Order",
];

/// Incident_Detail (`incident_detail.txt`).
pub(super) const INCIDENT_DETAIL: &[&str] =
    &["Incident_Detail_ID", "Incident_ID", "LU_Code_ID", "LU_Sub_Code_ID", "Lookup_Code_Desc"];

/// Incident_Person_Role (`incident_person_role.txt`).
pub(super) const INCIDENT_PERSON_ROLE: &[&str] =
    &["ID", "Incident_ID", "StudentID", "Role_Incident_Detail_ID"];

/// Incident_Action (`incident_action.txt`).
pub(super) const INCIDENT_ACTION: &[&str] = &[
    "Incident_Action_ID",
    "Incident_ID",
    "Action_Incident_Detail_ID",
    "Action_Plan_Begin_DT",
    "Action_Plan_End_DT",
    "Duration_Assigned",
    "Duration_Actual",
    "Action_Resolved_Desc",
];

/// The combined contacts export (`contacts.txt`, `contacts_export`):
/// StudentContactAssoc, StudentContactDetail and Person columns side by
/// side, one row per student and contact.
pub(super) const CONTACTS_EXPORT: &[&str] = &[
    "StudentDCID",
    "Student_Number",
    "StudentContactAssocID",
    "PersonID",
    "ContactPriorityOrder",
    "RelationshipType",
    "FirstName",
    "MiddleName",
    "LastName",
    "Email",
    "Phone",
    "PhoneType",
    "Street",
    "City",
    "State",
    "PostalCode",
    "IsCustodial",
    "IsEmergency",
    "LivesWithFlg",
    "SchoolPickupFlg",
    "ReceivesMailFlg",
];
