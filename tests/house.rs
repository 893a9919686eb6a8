//! The house, floor by floor (STYLE.md): the `use crate::` lines of `src/` form no circle, and
//! the vocabulary (what goes in and out) imports nothing from the state above it. This reads
//! the sources, so that an import that breaks the layering fails here, not in a review.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The ground floor: what goes in and out. These may import only each other.
const VOCABULARY: &[&str] = &[
    "command", "config", "error", "event", "ids", "outcome", "status", "strategy", "view", "wire",
];

/// Every source file as its module path (`routing::queue`, `lib` for the crate root).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(name);
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut parts = prefix.to_vec();
            if name != "mod" && name != "lib" {
                parts.push(name);
            }
            let module = if parts.is_empty() {
                "lib".to_string()
            } else {
                parts.join("::")
            };
            out.insert(
                module,
                fs::read_to_string(&path).expect("a readable source file"),
            );
        }
    }
}

/// The paths a `use` tree names, braces expanded: `a::{b, c::{d}}` gives `a::b`, `a::c::d`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let (head, body) = (&tree[..open], &tree[open + 1..tree.len() - 1]);
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{head}{p}")))
        .collect()
}

/// Which files each file imports with `use crate::…` (the longest module prefix named).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = BTreeMap::new();
    modules(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(),
        &[],
        &mut files,
    );
    let mut graph = BTreeMap::new();
    for (module, source) in &files {
        let mut targets = BTreeSet::new();
        let mut rest = source.as_str();
        while let Some(at) = rest.find("use crate::") {
            let statement = &rest[at + "use crate::".len()..];
            let end = statement.find(';').expect("a use statement ends with `;`");
            let tree: String = statement[..end].split_whitespace().collect();
            for path in expand(&tree) {
                let parts: Vec<&str> = path.split("::").collect();
                let target = (1..=parts.len())
                    .rev()
                    .map(|n| parts[..n].join("::"))
                    .find(|m| files.contains_key(m));
                if let Some(target) = target
                    && target != *module
                {
                    targets.insert(target);
                }
            }
            rest = &statement[end..];
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// A circle of imports, if there is one: depth-first search with the path on a stack.
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut circle = path[i..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, done, path) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_use_crate_lines_form_no_circle() {
    let graph = import_graph();
    assert!(
        graph.len() > 20,
        "the sources were found: {:?}",
        graph.keys()
    );
    if let Some(circle) = find_circle(&graph) {
        panic!("src/ imports in a circle: {}", circle.join(" -> "));
    }
}

#[test]
fn the_vocabulary_imports_nothing_from_the_state() {
    for (module, targets) in import_graph() {
        if !VOCABULARY.contains(&module.as_str()) {
            continue;
        }
        let above: Vec<_> = targets
            .iter()
            .filter(|t| !VOCABULARY.contains(&t.as_str()))
            .collect();
        assert!(
            above.is_empty(),
            "the vocabulary file `{module}` imports from the floors above it: {above:?}"
        );
    }
}

#[test]
fn a_circle_is_found_when_there_is_one() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        expand("a::{b,c::{d,e}}"),
        vec!["a::b", "a::c::d", "a::c::e"]
    );
}
