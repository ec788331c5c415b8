// Package config holds a command's options once. Each Option (name, type,
// default, help, how it goes with --snapshot, a check of its value) feeds
// the command-line flag --NAME, the environment variable PREFIX_NAME and
// the key NAME of a YAML configuration file, the help text and the printed
// effective configuration, so an option is added in one place.
//
// Set.Load applies the sources in order, each overriding the one before:
// default < file < environment < flag. It remembers where each value came
// from (Resolved.Source), so that an error about a value names its flag,
// its variable, or its file, line and key (Resolved.Problem), and
// Resolved.WriteYAML prints a configuration file that gives the same
// values, with each value's source as a comment.
//
// The file is strict: an unknown key, a value of the wrong type, a
// duplicate key, a YAML syntax error, a second document are errors naming
// the file and the line (lines counted from 1). Keys a later version
// defines (Set.Reserved) are refused with "not supported yet" rather than
// ignored; top-level blocks decoded elsewhere (Set.Sections, such as a list
// of suppressions) are handed to their decoder as YAML nodes.
//
// Values in the file:
//
//	string    any scalar, as written (an unquoted 012345678901 keeps its 0)
//	boolean   true or false
//	integer   a whole number
//	list      a sequence of scalars, or one comma-separated scalar
//	duration  a string such as 90s or 1h30m
//
// In the environment the same as text (booleans as strconv.ParseBool reads
// them, lists comma-separated); an empty variable counts as unset.
//
// The package knows nothing of the command's options or of AWS; cmd/audit
// defines the options and maps the scanner's configuration errors to their
// sources.
package config
