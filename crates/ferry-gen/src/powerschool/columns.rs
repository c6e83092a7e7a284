//! The column names of every export table, in file order, as PowerSchool
//! exports them (custom fields as `U_…` / `S_NJ_…` table-qualified names).

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
