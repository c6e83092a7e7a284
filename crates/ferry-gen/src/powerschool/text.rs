//! Text values built from names and random digits: ASCII folding for logins
//! and e-mail addresses, and phone numbers.

use crate::rng::Rng;

pub(super) fn fold_ascii(s: &str, out: &mut String) {
    for c in s.chars().flat_map(char::to_lowercase) {
        let m = match c {
            'a'..='z' | '0'..='9' => c,
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'š' => 's',
            'ž' => 'z',
            _ => continue,
        };
        out.push(m);
    }
}

pub(super) fn phone(rng: &mut Rng) -> (String, String) {
    let area = rng.pick(&["201", "973", "908", "732"]);
    let line = 100 + rng.below(100);
    (format!("({area}) 555-{line:04}"), format!("{area}555{line:04}"))
}
