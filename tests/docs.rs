//! The documentation against the program: the README's table of default rules lists every rule
//! of the embedded pack with its severity, and the walkthrough of `rules/README.md` (§13),
//! run as written, prints the counts it shows.

mod support;

/// The text of `file` from the line `heading` up to the next heading of that level or above.
fn section(file: &str, heading: &str) -> String {
    let text = std::fs::read_to_string(support::root().join(file)).unwrap();
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("{file} has no heading {heading:?}"));
    let level = heading.split(' ').next().unwrap().len();
    let body = &text[start + heading.len() + 2..];
    // The first heading line outside a fenced block (a YAML comment in one is not a heading).
    let mut at = 0;
    let mut fenced = false;
    let mut end = body.len();
    for line in body.lines() {
        let hashes = line.len() - line.trim_start_matches('#').len();
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && (1..=level).contains(&hashes) && line[hashes..].starts_with(' ') {
            end = at;
            break;
        }
        at += line.len() + 1;
    }
    body[..end].to_owned()
}

#[test]
fn the_readme_lists_every_default_rule_with_its_severity() {
    let table = section("README.md", "### The default rules");
    let mut listed: Vec<(String, String)> = table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let id = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((id.to_owned(), (*cells.get(2)?).to_owned()))
        })
        .collect();
    let mut pack: Vec<(String, String)> = support::default_rules()
        .rules()
        .map(|rule| (rule.id, rule.severity.as_str().to_owned()))
        .collect();
    assert!(pack.len() > 30, "the pack has its rules");
    listed.sort();
    pack.sort();
    assert_eq!(
        listed, pack,
        "README.md's table under \"The default rules\" must list each rule of rules/default.yaml \
         once, with its severity"
    );
}

/// The fenced blocks of `lang` in `text`, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    text.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_owned())
        .collect()
}

/// The line of `text` that starts with a count and ends with `suffix`, such as
/// `36 rule(s) in 2 file(s): no problems found`.
fn line_ending<'t>(text: &'t str, suffix: &str) -> &'t str {
    text.lines()
        .find(|line| line.ends_with(suffix) && line.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no line ending with {suffix:?} in:\n{text}"))
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> String {
    String::from_utf8_lossy(&support::run_in(dir, args).stdout).into_owned()
}

#[test]
fn the_rules_walkthrough_prints_what_it_shows() {
    let walkthrough = section("rules/README.md", "## 13. Walkthrough: build on the pack");
    let yaml = blocks(&walkthrough, "yaml");
    assert_eq!(
        yaml.len(),
        3,
        "steps 2 and 3 (my-rules.yaml) and 5 (my-rules.test.yaml)"
    );
    let text = blocks(&walkthrough, "text").join("\n");

    // The files as the walkthrough writes them, at the repository root's place: a folder of
    // their own, with the fixtures beside them.
    let dir = std::env::temp_dir().join(format!("bd-walkthrough-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let root = support::root();
    let tests = yaml[2].replace(
        "bundle: fixtures/",
        &format!("bundle: {}/fixtures/", root.display()),
    );
    std::fs::write(
        dir.join("my-rules.yaml"),
        format!("{}\n{}", yaml[0], yaml[1]),
    )
    .unwrap();
    std::fs::write(dir.join("my-rules.test.yaml"), tests).unwrap();

    let check = run_in(&dir, &["rules", "check", "my-rules.yaml"]);
    let suffix = "file(s): no problems found";
    assert_eq!(line_ending(&check, suffix), line_ending(&text, suffix));

    let own = run_in(
        &dir,
        &[
            "rules",
            "test",
            "--rules",
            "my-rules.yaml",
            "my-rules.test.yaml",
        ],
    );
    assert_eq!(line_ending(&own, " failed"), line_ending(&text, " failed"));

    // The pack's own cases against the changed thresholds: the count the prose gives.
    let pack_tests = root.join("rules/tests");
    let pack = run_in(
        &dir,
        &[
            "rules",
            "test",
            "--rules",
            "my-rules.yaml",
            pack_tests.to_str().unwrap(),
        ],
    );
    let counts = line_ending(&pack, " failed");
    assert!(
        walkthrough.contains(&format!("`{counts}`")),
        "rules/README.md §13 should say that the pack's cases end with `{counts}`"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
