//! A small hand-written argument parser: `--flag`, `--flag VALUE`, `--flag=VALUE`, and flags
//! taking several values (`--reveal-from A B C`, up to the next `--flag`). Every command
//! declares its flags, so unknown flags are reported with the command's usage.

use std::collections::BTreeMap;

use crate::CliError;

/// How a flag takes values.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A switch: no value.
    Switch,
    /// Exactly one value.
    Value,
    /// One or more values, up to the next flag; may be repeated.
    Multi,
}

/// The parsed command line of one command.
#[derive(Debug, Default)]
pub struct Parsed {
    values: BTreeMap<String, Vec<String>>,
    /// Arguments that are not flags, in order.
    pub positional: Vec<String>,
}

impl Parsed {
    /// Whether a switch (or any flag) was given.
    pub fn has(&self, flag: &str) -> bool {
        self.values.contains_key(flag)
    }

    /// The value of a single-valued flag.
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).and_then(|v| v.last()).map(String::as_str)
    }

    /// Every value of a multi-valued flag.
    pub fn values(&self, flag: &str) -> &[String] {
        self.values.get(flag).map_or(&[], Vec::as_slice)
    }

    /// The value of a required flag.
    pub fn required(&self, flag: &str, usage: &str) -> Result<&str, CliError> {
        self.value(flag).ok_or_else(|| CliError::usage(format!("missing {flag}"), usage))
    }
}

/// Whether `--help` or `-h` appears among the arguments.
pub fn wants_help(args: &[String]) -> bool {
    args.iter().take_while(|a| a.as_str() != "--").any(|a| a == "--help" || a == "-h")
}

/// Parses `args` against `spec`. `max_positional` bounds the non-flag arguments.
pub fn parse(args: &[String], spec: &[(&str, Kind)], max_positional: usize, usage: &str) -> Result<Parsed, CliError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_positional || !arg.starts_with("--") || arg == "-" {
            if !only_positional && arg.starts_with('-') && arg.len() > 1 {
                return Err(CliError::usage(format!("unknown option {arg}"), usage));
            }
            parsed.positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        let Some(&(_, kind)) = spec.iter().find(|(flag, _)| *flag == name) else {
            return Err(CliError::usage(format!("unknown option {name}"), usage));
        };
        let entry = parsed.values.entry(name.to_owned()).or_default();
        match kind {
            Kind::Switch => {
                if inline.is_some() {
                    return Err(CliError::usage(format!("{name} takes no value"), usage));
                }
            }
            Kind::Value => {
                let value = match inline {
                    Some(value) => value,
                    None => {
                        let value =
                            args.get(i).ok_or_else(|| CliError::usage(format!("{name} needs a value"), usage))?;
                        i += 1;
                        value.clone()
                    }
                };
                if !entry.is_empty() {
                    return Err(CliError::usage(format!("{name} given twice"), usage));
                }
                entry.push(value);
            }
            Kind::Multi => {
                let before = entry.len();
                if let Some(value) = inline {
                    entry.push(value);
                    continue;
                }
                while let Some(value) = args.get(i) {
                    if value.starts_with("--") {
                        break;
                    }
                    entry.push(value.clone());
                    i += 1;
                }
                if entry.len() == before {
                    return Err(CliError::usage(format!("{name} needs at least one value"), usage));
                }
            }
        }
    }
    if parsed.positional.len() > max_positional {
        return Err(CliError::usage(format!("unexpected argument {:?}", parsed.positional[max_positional]), usage));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_switches_and_multi() {
        let spec = [("--a", Kind::Value), ("--s", Kind::Switch), ("--m", Kind::Multi)];
        let p = parse(&strings(&["--a", "1", "--s", "--m", "x", "y", "--m=z", "pos"]), &spec, 0, "u");
        assert!(p.is_err(), "a positional argument where none is allowed");
        let p = parse(&strings(&["pos", "--a=1", "--s", "--m", "x", "y", "--m=z"]), &spec, 1, "u").unwrap();
        assert_eq!(p.value("--a"), Some("1"));
        assert!(p.has("--s"));
        assert_eq!(p.values("--m"), ["x", "y", "z"]);
        assert_eq!(p.positional, ["pos"]);
        assert!(parse(&strings(&["--nope"]), &spec, 0, "u").is_err());
        assert!(parse(&strings(&["--a"]), &spec, 0, "u").is_err());
        assert!(parse(&strings(&["-x"]), &spec, 1, "u").is_err());
        assert_eq!(parse(&strings(&["-"]), &spec, 1, "u").unwrap().positional, ["-"]);
    }
}
