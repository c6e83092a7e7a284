//! Standalone HTML report pages: one file, readable in a browser and in
//! print, that loads nothing.
//!
//! Every report Ferry writes as HTML (the inventory, a dry run or a
//! migration, the reconciliation of `ferry verify`; the Solution Document
//! and the readiness checks next) is built with [`Page`]:
//!
//! ```ignore
//! let mut page = Page::new("Inventory of powerschool:export/");
//! page.meta(&[("Source", "powerschool:export/"), ("Taken", "2026-12-02T04:10:48Z")])
//!     .figures(&[("records", "Records", 1234), ("rejected", "Rejected on reading", 3)])
//!     .heading("Students")
//!     .para("Every field's fill rate, and each code's frequency.")
//!     .table(&["field", "filled"], &[vec!["sex".into(), "100%".into()]])
//!     .bar_chart("Grade levels", &[("09", 310), ("10", 295)]);
//! let html: String = page.finish();
//! ```
//!
//! What a page guarantees:
//! - **Standalone.** Inline CSS only; no scripts, fonts, images or other
//!   files. A Content-Security-Policy meta tag (`default-src 'none';
//!   style-src 'unsafe-inline'; img-src data:`) blocks anything loaded by
//!   accident, and a browser reports the blocked load as a console error
//!   (which the browser tests look for). Links are relative only: a link
//!   to anything with a scheme (`http:`, `file:`…) is written as plain text.
//! - **Escaped.** Every string given is text, never markup: `&`, `<`, `>`,
//!   `"` and `'` are escaped in text and attributes alike.
//! - **Charts as inline SVG** ([`Page::bar_chart`], [`Page::fill_chart`]):
//!   horizontal bars, each labelled with its number, with a title and a
//!   description for screen readers and the same numbers as a table under
//!   "The figures".
//! - **Headline figures** ([`Page::figures`]) are marked up for tests:
//!   `<span class="figure" data-figure="records">1234</span>`, and a
//!   verdict ([`Page::verdict`]) as `data-figure="KEY" data-ok="true"`.
//! - **Print.** `@media print` rules: black on white, no backgrounds, table
//!   rows and charts kept whole, headings kept with what follows, table
//!   headers repeated on each page, link targets printed; page margins
//!   that suit A4 and US Letter alike.
//!
//! Privacy is the caller's part: a page shows what it is given. Reports
//! give counts, codes, ids, files and lines, never names, birth dates or
//! contact details.

use std::fmt::Write as _;

/// The Content-Security-Policy every page carries.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Bars a [`Page::bar_chart`] draws; the rest are summed into one bar.
pub const MAX_BARS: usize = 30;

/// Escapes text for HTML text and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A figure key as an attribute value: lower-case letters, digits and `-`.
fn key(k: &str) -> String {
    k.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

/// The file name of a report's path (`reports/x.json` → `x.json`): the
/// target of a link to it from a page beside it ([`Page::links`]).
pub fn file_name(rel: &str) -> &str {
    rel.rsplit(['/', '\\']).next().unwrap_or(rel)
}

/// A percentage for display (`-` of nothing).
pub fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        "-".into()
    } else {
        #[allow(clippy::cast_precision_loss, reason = "a percentage for display")]
        let p = n as f64 * 100.0 / of as f64;
        format!("{p:.0}%")
    }
}

/// [`escape`], with a line-break opportunity (`<wbr>`) after each `_`, `/`
/// and `.`, so that identifiers (`school_enrollments`, a file's path) break
/// there rather than anywhere in a narrow column.
fn escape_breakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for part in text.split_inclusive(['_', '/', '.']) {
        out.push_str(&escape(part));
        if part.ends_with(['_', '/', '.']) && part.len() > 1 {
            out.push_str("<wbr>");
        }
    }
    out
}

/// Whether a table cell reads as a number (right-aligned).
fn numeric(cell: &str) -> bool {
    let c = cell.trim().trim_end_matches('%');
    !c.is_empty() && (c == "-" || c.parse::<f64>().is_ok())
}

/// A relative link target: no scheme, no `//host`.
fn relative(href: &str) -> bool {
    let before_slash = href.split(['/', '?', '#']).next().unwrap_or("");
    !href.starts_with("//") && !before_slash.contains(':') && !href.contains('\\')
}

const STYLE: &str = r##"
:root{color-scheme:light;--ink:#1c232b;--muted:#56616c;--line:#d3dae0;--soft:#f3f6f8;--accent:#2b6a99;--bar:#3a78ad;--good:#1d6a33;--bad:#a1281d}
*{box-sizing:border-box}
html{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
body{margin:0 auto;max-width:62rem;padding:1.5rem 1.25rem 3rem}
header.page{border-bottom:3px solid var(--accent);margin-bottom:1.25rem;padding-bottom:.5rem}
h1{font-size:1.7rem;line-height:1.2;margin:0 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
h3{font-size:1.05rem;margin:1.4rem 0 .5rem;overflow-wrap:anywhere}
p{margin:.5rem 0}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.4rem 0;color:var(--muted)}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;overflow-wrap:anywhere}
ul.figures{display:flex;flex-wrap:wrap;gap:.6rem;list-style:none;margin:1rem 0;padding:0}
ul.figures li{border:1px solid var(--line);border-radius:6px;background:var(--soft);padding:.45rem .85rem;min-width:8.5rem}
ul.figures .figure{display:block;font-size:1.55rem;font-weight:700;font-variant-numeric:tabular-nums}
ul.figures .label{color:var(--muted);font-size:.85rem}
.verdict{margin:1rem 0;padding:.6rem .9rem;border-left:5px solid;font-weight:600}
.verdict.ok{border-color:var(--good);background:#e9f4eb;color:var(--good)}
.verdict.bad{border-color:var(--bad);background:#fbeceb;color:var(--bad)}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:var(--soft);font-weight:600;vertical-align:bottom}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
figure.chart{margin:1rem 0 1.25rem}
figure.chart figcaption{font-weight:600;margin-bottom:.25rem}
figure.chart svg{display:block;width:100%;height:auto;max-width:48rem}
svg text{fill:var(--ink);font-size:12px}
svg .bar{fill:var(--bar)}
svg .track{fill:var(--soft)}
details.chart-data summary{color:var(--muted);font-size:.85rem;cursor:pointer}
.ids{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
.muted{color:var(--muted)}
nav.toc ol{columns:2;margin:.25rem 0 1rem}
a{color:var(--accent)}
footer{margin-top:3rem;padding-top:.5rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem}
@page{margin:14mm 12mm}
@media print{
html{font-size:10pt;color:#000;background:#fff}
body{max-width:none;padding:0}
table{font-size:8.5pt}
th,td{padding:.15rem .3rem}
header.page{border-bottom-color:#000}
ul.figures li,th,.verdict,.verdict.ok,.verdict.bad{background:none}
.verdict,.verdict.ok,.verdict.bad,dl.meta,.muted,footer,ul.figures .label{color:#000}
svg .track{fill:none}
h1,h2,h3,figcaption{break-after:avoid;page-break-after:avoid;break-inside:avoid}
tr,li,figure,.verdict,dl.meta{break-inside:avoid;page-break-inside:avoid}
thead{display:table-header-group}
a{color:#000;text-decoration:underline}
a[href]:not([href^="#"])::after{content:" (" attr(href) ")";font-size:.85em;overflow-wrap:anywhere}
nav.toc,details.chart-data{display:none}
}
"##;

/// A standalone HTML report page, built in order and finished once.
#[derive(Clone, Debug)]
pub struct Page {
    title: String,
    head: String,
    body: String,
    /// h2 headings and their anchors, for the contents.
    sections: Vec<(String, String)>,
    charts: usize,
}

impl Page {
    /// A page titled `title` (its `<title>` and `<h1>`).
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_owned(),
            head: String::new(),
            body: String::new(),
            sections: Vec::new(),
            charts: 0,
        }
    }

    /// Facts about the report under its title (the source, when it ran…),
    /// as a list of labels and values; an empty value is left out.
    pub fn meta(&mut self, items: &[(&str, &str)]) -> &mut Self {
        if items.is_empty() {
            return self;
        }
        self.head.push_str("<dl class=\"meta\">");
        for (label, value) in items.iter().filter(|(_, v)| !v.is_empty()) {
            let _ = write!(self.head, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
        }
        self.head.push_str("</dl>\n");
        self
    }

    /// A section heading (`<h2>`, listed in the page's contents).
    pub fn heading(&mut self, text: &str) -> &mut Self {
        let anchor = format!("s{}", self.sections.len() + 1);
        let _ = writeln!(self.body, "<h2 id=\"{anchor}\">{}</h2>", escape(text));
        self.sections.push((anchor, text.to_owned()));
        self
    }

    /// A heading inside a section (`<h3>`).
    pub fn subheading(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h3>{}</h3>", escape(text));
        self
    }

    /// A paragraph of text.
    pub fn para(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", escape(text));
        self
    }

    /// A paragraph in a quieter colour (explanations, notes).
    pub fn note(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p class=\"muted\">{}</p>", escape(text));
        self
    }

    /// A bulleted list.
    pub fn list<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        if items.is_empty() {
            return self;
        }
        self.body.push_str("<ul>");
        for i in items {
            let _ = write!(self.body, "<li>{}</li>", escape(i.as_ref()));
        }
        self.body.push_str("</ul>\n");
        self
    }

    /// `label (n): id, id, …`, every id given, in a monospace paragraph
    /// (mismatches and anomalies by id).
    pub fn ids<S: AsRef<str>>(&mut self, label: &str, ids: &[S]) -> &mut Self {
        let list: Vec<String> = ids.iter().map(|i| escape(i.as_ref())).collect();
        let _ = writeln!(
            self.body,
            "<p><strong>{} ({})</strong>: <span class=\"ids\">{}</span></p>",
            escape(label),
            ids.len(),
            list.join(", ")
        );
        self
    }

    /// Links to other files, relative to the page (the report's JSON and
    /// Markdown beside it). A target with a scheme or a host is shown as
    /// text, not linked: a page never points outside its folder.
    pub fn links(&mut self, label: &str, links: &[(&str, &str)]) -> &mut Self {
        let items: Vec<String> = links
            .iter()
            .map(|(text, href)| {
                if relative(href) {
                    format!("<a href=\"{}\">{}</a>", escape(href), escape(text))
                } else {
                    format!("{} ({})", escape(text), escape(href))
                }
            })
            .collect();
        let _ = writeln!(self.body, "<p>{}: {}</p>", escape(label), items.join(", "));
        self
    }

    /// Headline figures: `(key, label, value)`, each value marked up as
    /// `<span class="figure" data-figure="KEY">VALUE</span>` (the key in
    /// lower case, other characters as `-`).
    pub fn figures(&mut self, figures: &[(&str, &str, u64)]) -> &mut Self {
        self.body.push_str("<ul class=\"figures\">");
        for (k, label, value) in figures {
            let _ = write!(
                self.body,
                "<li><span class=\"figure\" data-figure=\"{}\">{value}</span><span class=\"label\">{}</span></li>",
                key(k),
                escape(label)
            );
        }
        self.body.push_str("</ul>\n");
        self
    }

    /// The report's verdict, as a highlighted line: `data-figure="KEY"`
    /// with `data-ok="true"` or `"false"`.
    pub fn verdict(&mut self, figure: &str, ok: bool, text: &str) -> &mut Self {
        let _ = writeln!(
            self.body,
            "<p class=\"verdict {}\" data-figure=\"{}\" data-ok=\"{ok}\">{}</p>",
            if ok { "ok" } else { "bad" },
            key(figure),
            escape(text)
        );
        self
    }

    /// A table; columns whose cells all read as numbers are right-aligned.
    pub fn table<S: AsRef<str>>(&mut self, headers: &[&str], rows: &[Vec<S>]) -> &mut Self {
        let num: Vec<bool> = (0..headers.len())
            .map(|c| !rows.is_empty() && rows.iter().all(|r| r.get(c).is_none_or(|x| numeric(x.as_ref()))))
            .collect();
        let class = |c: usize| if num.get(c) == Some(&true) { " class=\"num\"" } else { "" };
        self.body.push_str("<table><thead><tr>");
        for (c, h) in headers.iter().enumerate() {
            let _ = write!(self.body, "<th scope=\"col\"{}>{}</th>", class(c), escape_breakable(h));
        }
        self.body.push_str("</tr></thead><tbody>\n");
        for r in rows {
            self.body.push_str("<tr>");
            for (c, x) in r.iter().enumerate() {
                let _ = write!(self.body, "<td{}>{}</td>", class(c), escape_breakable(x.as_ref()));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table>\n");
        self
    }

    /// A horizontal bar chart of counts, scaled to the largest; bars beyond
    /// [`MAX_BARS`] are summed into one ("N others"). Each bar is labelled
    /// with its number.
    pub fn bar_chart<S: AsRef<str>>(&mut self, title: &str, bars: &[(S, u64)]) -> &mut Self {
        let mut shown: Vec<(String, u64, String)> = bars
            .iter()
            .take(if bars.len() > MAX_BARS { MAX_BARS - 1 } else { MAX_BARS })
            .map(|(l, n)| (l.as_ref().to_owned(), *n, n.to_string()))
            .collect();
        if bars.len() > MAX_BARS {
            let rest = &bars[MAX_BARS - 1..];
            let n: u64 = rest.iter().map(|(_, n)| n).sum();
            shown.push((format!("{} others", rest.len()), n, n.to_string()));
        }
        let max = shown.iter().map(|(_, n, _)| *n).max().unwrap_or(0);
        self.chart(title, max, &shown)
    }

    /// A horizontal bar chart of parts of one whole (fields filled of the
    /// records, say): each bar scaled to `total` and labelled `n (p%)`.
    /// Every bar is drawn.
    pub fn fill_chart<S: AsRef<str>>(&mut self, title: &str, total: u64, bars: &[(S, u64)]) -> &mut Self {
        let shown: Vec<(String, u64, String)> = bars
            .iter()
            .map(|(l, n)| (l.as_ref().to_owned(), *n, format!("{n} ({})", percent(*n, total))))
            .collect();
        self.chart(title, total, &shown)
    }

    fn chart(&mut self, title: &str, max: u64, bars: &[(String, u64, String)]) -> &mut Self {
        self.charts += 1;
        let id = format!("c{}", self.charts);
        let _ = write!(
            self.body,
            "<figure class=\"chart\" aria-labelledby=\"{id}\"><figcaption id=\"{id}\">{}</figcaption>",
            escape(title)
        );
        if bars.is_empty() {
            self.body.push_str("<p class=\"muted\">Nothing to chart.</p></figure>\n");
            return self;
        }
        const WIDTH: u64 = 720;
        const LABEL: u64 = 230;
        const VALUE: u64 = 110;
        const ROW: u64 = 22;
        const BAR: u64 = 15;
        let span = WIDTH - LABEL - VALUE - 16;
        let height = ROW * bars.len() as u64 + 6;
        let desc: Vec<String> = bars.iter().map(|(l, _, v)| format!("{l}: {v}")).collect();
        let _ = write!(
            self.body,
            "<svg viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"{id}t {id}d\"><title id=\"{id}t\">{}</title><desc id=\"{id}d\">{}</desc>",
            escape(title),
            escape(&desc.join("; "))
        );
        for (i, (label, n, value)) in bars.iter().enumerate() {
            let y = ROW * i as u64 + 4;
            let w = if max == 0 { 0 } else { (u128::from(*n) * u128::from(span) / u128::from(max)) as u64 };
            // A bar that is not zero shows, however small.
            let w = if *n > 0 { w.max(1) } else { 0 };
            let short: String = if label.chars().count() > 34 {
                label.chars().take(33).chain(['…']).collect()
            } else {
                label.clone()
            };
            let text_y = y + BAR - 3;
            let _ = write!(
                self.body,
                "<g><title>{}: {}</title><text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\">{}</text><rect class=\"track\" x=\"{}\" y=\"{y}\" width=\"{span}\" height=\"{BAR}\"/><rect class=\"bar\" x=\"{}\" y=\"{y}\" width=\"{w}\" height=\"{BAR}\"/><text x=\"{}\" y=\"{text_y}\">{}</text></g>",
                escape(label),
                escape(value),
                LABEL - 6,
                escape(&short),
                LABEL,
                LABEL,
                LABEL + w + 6,
                escape(value)
            );
        }
        self.body.push_str("</svg>");
        self.body.push_str("<details class=\"chart-data\"><summary>The figures</summary><table><tbody>");
        for (label, _, value) in bars {
            let _ = write!(
                self.body,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(label),
                escape(value)
            );
        }
        self.body.push_str("</tbody></table></details></figure>\n");
        self
    }

    /// The page as one standalone HTML document.
    pub fn finish(&self) -> String {
        let mut out = String::with_capacity(STYLE.len() + self.head.len() + self.body.len() + 1024);
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        let _ = writeln!(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">", escape(CSP));
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str("<meta name=\"color-scheme\" content=\"light\">\n<meta name=\"referrer\" content=\"no-referrer\">\n");
        // No favicon request: the icon is an empty data: URL.
        out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
        let _ = writeln!(out, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
        let _ =
            writeln!(out, "<header class=\"page\"><h1>{}</h1>\n{}</header>", escape(&self.title), self.head);
        out.push_str("<main>\n");
        if self.sections.len() >= 4 {
            out.push_str("<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>");
            for (anchor, text) in &self.sections {
                let _ = write!(out, "<li><a href=\"#{anchor}\">{}</a></li>", escape(text));
            }
            out.push_str("</ol></nav>\n");
        }
        out.push_str(&self.body);
        out.push_str("</main>\n");
        let _ = writeln!(
            out,
            "<footer>Written by Ferry {}. A standalone page: it loads nothing from anywhere.</footer>",
            env!("CARGO_PKG_VERSION")
        );
        out.push_str("</body>\n</html>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>";

    fn every_part(text: &str) -> String {
        let mut p = Page::new(text);
        p.meta(&[(text, text)])
            .heading(text)
            .subheading(text)
            .para(text)
            .note(text)
            .list(&[text])
            .ids(text, &[text])
            .links(text, &[(text, "inventory.json")])
            .figures(&[("records", text, 12)])
            .verdict(text, true, text)
            .table(&[text], &[vec![text.to_owned()]])
            .bar_chart(text, &[(text, 3)])
            .fill_chart(text, 4, &[(text, 1)]);
        p.finish()
    }

    #[test]
    fn every_string_is_escaped() {
        let html = every_part(HOSTILE);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("'x'"), "single quotes are escaped too");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }

    #[test]
    fn a_page_references_nothing_outside_itself() {
        let html = every_part("Students by grade");
        for banned in ["http:", "https:", "<script", "@import", "url(", "src=", "//"] {
            assert!(!html.contains(banned), "{banned} in the page:\n{html}");
        }
        assert!(html.contains(&format!("content=\"{}\"", escape(CSP))));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("@media print"));
    }

    #[test]
    fn links_are_relative_only() {
        let mut p = Page::new("t");
        p.links(
            "Files",
            &[
                ("json", "inventory-1.json"),
                ("web", "https://example.org/x"),
                ("host", "//example.org/x"),
                ("file", "file:///etc/passwd"),
                ("js", "javascript:alert(1)"),
            ],
        );
        let html = p.finish();
        assert!(html.contains("<a href=\"inventory-1.json\">json</a>"));
        assert_eq!(file_name("reports/verify-1.md"), "verify-1.md");
        for bad in ["href=\"https", "href=\"//", "href=\"file", "href=\"javascript"] {
            assert!(!html.contains(bad), "{bad}: {html}");
        }
    }

    #[test]
    fn figures_are_marked_up_for_tests() {
        let mut p = Page::new("t");
        p.figures(&[("records", "Records", 1234), ("Would Create", "Would be created", 7)]).verdict(
            "reconciled",
            false,
            "Not reconciled",
        );
        let html = p.finish();
        assert!(html.contains("<span class=\"figure\" data-figure=\"records\">1234</span>"));
        assert!(html.contains("data-figure=\"would-create\">7</span>"));
        assert!(html.contains("data-figure=\"reconciled\" data-ok=\"false\""));
    }

    #[test]
    fn charts_carry_their_numbers_as_text() {
        let bars: Vec<(String, u64)> = (0..40).map(|i| (format!("code {i}"), 100 - i)).collect();
        let mut p = Page::new("t");
        p.bar_chart("Codes", &bars)
            .fill_chart("Fill", 10, &[("sex", 5), ("race", 0)])
            .bar_chart::<&str>("None", &[]);
        let html = p.finish();
        assert!(html.contains("<title id=\"c1t\">Codes</title>"));
        assert!(html.contains("code 0: 100"), "the description lists every bar");
        let others: u64 = (MAX_BARS as u64 - 1..40).map(|i| 100 - i).sum();
        assert!(html.contains(&format!("11 others: {others}")), "{html}");
        assert!(!html.contains("code 35"), "bars beyond the limit are summed");
        assert!(html.contains("sex: 5 (50%)") && html.contains("race: 0 (0%)"));
        assert!(html.contains("Nothing to chart."));
        assert_eq!(html.matches("<rect class=\"bar\"").count(), MAX_BARS + 2);
    }

    #[test]
    fn identifiers_break_at_their_separators() {
        assert_eq!(escape_breakable("school_enrollments"), "school_<wbr>enrollments");
        assert_eq!(escape_breakable("export/a<b>.txt"), "export/<wbr>a&lt;b&gt;.<wbr>txt");
        assert_eq!(escape_breakable("_"), "_");
    }

    #[test]
    fn numeric_columns_are_right_aligned() {
        let mut p = Page::new("t");
        p.table(&["entity", "records", "filled"], &[vec!["students", "12", "50%"], vec!["orgs", "3", "-"]]);
        let html = p.finish();
        assert!(html.contains("<th scope=\"col\">entity</th><th scope=\"col\" class=\"num\">records</th>"));
        assert!(html.contains("<td>students</td><td class=\"num\">12</td><td class=\"num\">50%</td>"));
    }
}
