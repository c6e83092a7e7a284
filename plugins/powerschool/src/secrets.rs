//! Secrets a full PowerSchool export contains: social security numbers, web
//! and portal passwords, locker combinations and the like. They are left out
//! of everything the connector produces (records, extensions, source tables)
//! unless `include_secrets = true`, and the run summary names the columns
//! left out.

use crate::tables::fold;

/// Folded column names (or name parts) that hold secrets.
const SECRET_PARTS: &[&str] =
    &["password", "passwd", "pwd", "socialsecurity", "lockercombination", "lockercombo"];

/// Folded column names that are secrets as a whole.
const SECRET_NAMES: &[&str] = &["ssn", "socsecnum", "socsecno", "ssnumber", "pin", "webpin", "combination"];

/// Whether a column (its name without a table qualifier) holds a secret.
pub fn is_secret(column: &str) -> bool {
    let f = fold(column);
    SECRET_NAMES.contains(&f.as_str()) || SECRET_PARTS.iter().any(|p| f.contains(p)) || f.ends_with("ssn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_the_secrets_of_a_full_export() {
        for c in [
            "SSN",
            "Student_Web_Password",
            "Web_Password",
            "Parent_Web_Password",
            "LockerCombination",
            "Locker_Combination",
            "Social_Security_Number",
            "TeacherLoginPW_pwd",
            "Mother_SSN",
        ] {
            assert!(is_secret(c), "{c}");
        }
        for c in ["Student_Web_ID", "Web_ID", "Locker_Number", "Last_Name", "SchoolID", "Passage", "DCID"] {
            assert!(!is_secret(c), "{c}");
        }
    }
}
