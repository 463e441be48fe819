# The second half of the module `policy.rego` begins (pyimage appends it there): how a reference reads, what kind
# of source it is, what its tag promises, and when its Python line ends.

# ---- Reference grammar (distribution/reference) and Docker's normalisation ----

path_re := `^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`

domain_re := `^(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]+)?$`

tag_re := `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`

digest_re := `^sha256:[0-9a-f]{64}$`

docker_split(text) := ["docker.io", concat("", ["library/", text])] if {
	not contains(text, "/")
} else := [domain, with_library(domain, remote)] if {
	slash := indexof(text, "/")
	first := substring(text, 0, slash)
	rest := substring(text, slash + 1, count(text))
	[domain, remote] := domain_of(first, rest, text)
}

domain_of(first, rest, text) := [first, rest] if {
	first == "localhost"
} else := ["docker.io", rest] if {
	first == "index.docker.io"
} else := [first, rest] if {
	regex.match(`[.:]`, first)
} else := [first, rest] if {
	lower(first) != first
} else := ["docker.io", text]

with_library(domain, remote) := concat("", ["library/", remote]) if {
	domain == "docker.io"
	not contains(remote, "/")
} else := remote

split_digest(text) := [substring(text, 0, at), substring(text, at + 1, count(text))] if {
	at := indexof(text, "@")
	at >= 0
} else := [text, ""]

split_tag(text) := [substring(text, 0, (count(text) - count(tag)) - 1), tag, true] if {
	segments := split(text, "/")
	last := segments[count(segments) - 1]
	contains(last, ":")
	pieces := split(last, ":")
	tag := pieces[count(pieces) - 1]
} else := [text, "", false]

split_name(name) := [domain, path] if {
	slash := indexof(name, "/")
	slash >= 0
	domain := substring(name, 0, slash)
	path := substring(name, slash + 1, count(name))
	regex.match(domain_re, domain)
	regex.match(path_re, path)
} else := ["", name] if {
	regex.match(path_re, name)
}

parse(text) := ref if {
	not regex.match(`^[a-f0-9]{64}$`, text)
	[domain0, remainder] := docker_split(text)
	remote_name := split(remainder, ":")[0]
	lower(remote_name) == remote_name
	[name_and_tag, digest] := split_digest(concat("/", [domain0, remainder]))
	digest_ok(digest)
	[name, tag, tagged] := split_tag(name_and_tag)
	tag_ok(tag, tagged)
	[domain, path] := split_name(name)
	count(path) <= 255
	ref := {"domain": domain, "path": path, "tag": tag, "tagged": tagged, "digest": digest}
}

digest_ok(digest) if digest == ""

digest_ok(digest) if regex.match(digest_re, digest)

tag_ok(_, tagged) if not tagged

tag_ok(tag, true) if regex.match(tag_re, tag)

ref_name(ref) := ref.path if ref.domain == ""

ref_name(ref) := concat("/", [ref.domain, ref.path]) if ref.domain != ""

familiar(ref) := concat("", [familiar_name(ref), tag_suffix(ref), digest_suffix(ref)])

familiar_name(ref) := trim_prefix(ref.path, "library/") if {
	ref.domain == "docker.io"
	startswith(ref.path, "library/")
	not contains(trim_prefix(ref.path, "library/"), "/")
} else := ref.path if {
	ref.domain == "docker.io"
} else := ref_name(ref)

tag_suffix(ref) := concat("", [":", ref.tag]) if {
	ref.tagged
} else := ""

digest_suffix(ref) := concat("", ["@", ref.digest]) if {
	ref.digest != ""
} else := ""

# ---- Source classification (pyimage_core::check::rules::classify) ----

matching_pattern(patterns, ref) := [p.pattern | some p in patterns; regex.match(p.regex, ref_name(ref))][0]

allowed_source(ref) := matching_pattern(object.get(input.parameters, "allowedSources", []), ref)

vendor_accepted(ref) := matching_pattern(object.get(input.parameters, "vendorImages", []), ref)

last_name(ref) := name if {
	parts := split(lower(ref.path), "/")
	name := parts[count(parts) - 1]
}

source(ref) := {"kind": "official"} if {
	ref.domain == "docker.io"
	ref.path == "library/python"
} else := {"kind": "mirror", "pattern": pattern} if {
	pattern := matching_pattern(object.get(input.parameters, "mirrors", []), ref)
} else := {"kind": "derived", "line": vendor_line(ref)} if {
	vendor_accepted(ref)
} else := {"kind": "derived", "line": vendor_line(ref)} if {
	matching_pattern(object.get(input.parameters, "knownVendors", []), ref)
} else := {"kind": "lookalike", "why": sprintf("the repository is named \"%s\"", [last_name(ref)])} if {
	regex.match(`^python[0-9._-]*$`, last_name(ref))
} else := {"kind": "lookalike", "why": sprintf("\"%s\" is in Docker Hub's library/ namespace, where only official images live", [last_name(ref)])} if {
	ref.domain == "docker.io"
	startswith(lower(ref.path), "library/")
	contains(last_name(ref), "python")
} else := {"kind": "lookalike", "why": sprintf("\"%s\" is one or two letters away from \"python\"", [last_name(ref)])} if {
	count(last_name(ref)) >= 5
	typosquat(last_name(ref))
} else := {"kind": "derived", "line": derived_line(ref)} if {
	mention(last_name(ref)) != false
} else := {"kind": "derived", "line": derived_line(ref)} if {
	mention(ref.tag) != false
} else := {"kind": "other"}

# Every path component within edit distance 2 of "python": the edit scripts of at most two operations, `.` for a
# new character (any character a path component may hold), in groups of 16 so that each regex stays small.
typosquat(name) if {
	some start in numbers.range(0, count(typosquat_alternatives) - 1)
	start % 16 == 0
	group := array.slice(typosquat_alternatives, start, start + 16)
	pattern := replace(concat("", ["^(?:", concat("|", group), ")$"]), ".", "[a-z0-9._-]")
	regex.match(pattern, name)
}

typosquat_alternatives := [
@TYPOSQUAT@
]

official_like(src) if src.kind in {"official", "mirror"}

is_python(src) if src.kind != "other"

derived_line(ref) := line if {
	line := mention(last_name(ref))
	line != null
} else := line if {
	line := mention(ref.tag)
	line != null
} else := null

# A vendor image's line: named in its repository or tag (as derived_line), else leading its tag (`3.12-bookworm`).
vendor_line(ref) := line if {
	line := derived_line(ref)
	line != null
} else := line if {
	line := python_line(ref.tag)
} else := null

# A mention of Python in a name or tag: the line of the first `python`/word-start `py` followed by a version, else
# null when `python` appears without one; undefined when neither.
mention(text) := line if {
	lowered := lower(text)
	count(lowered) >= 2
	lines := [l |
		some index in numbers.range(0, count(lowered) - 2)
		substring(lowered, index, 2) == "py"
		l := mention_at(lowered, index)
	]
	count(lines) > 0
	line := lines[0]
} else := null if {
	contains(lower(text), "python")
}

mention_at(lowered, index) := line if {
	rest := substring(lowered, index, count(lowered))
	startswith(rest, "python")
	line := python_line(substring(rest, 6, count(rest)))
} else := line if {
	rest := substring(lowered, index, count(lowered))
	not startswith(rest, "python")
	word_start(lowered, index)
	line := python_line(substring(rest, 2, count(rest)))
}

word_start(_, 0) := true

word_start(lowered, index) if {
	index > 0
	not regex.match(`^[a-z0-9]$`, substring(lowered, index - 1, 1))
}

python_line(text) := [to_number(m[1]), small_number(m[2])] if {
	m := regex.find_all_string_submatch_n(`^[-_]?0*([23])\.([0-9]{1,2})(?:[^0-9]|$)`, text, 1)[0]
} else := [to_number(m[1]), small_number(m[2])] if {
	m := regex.find_all_string_submatch_n(`^[-_]?([23])([0-9]{1,2})(?:[^0-9.]|$)`, text, 1)[0]
}

small_number(digits) := (to_number(substring(digits, 0, 1)) * 10) + to_number(substring(digits, 1, 1)) if {
	count(digits) == 2
} else := to_number(digits)

# ---- The tag model of the official image (pyimage_core::python::PythonTag) ----

u32(digits) := n if {
	regex.match(`^[0-9]{1,10}$`, digits)
	n := to_number(digits)
	n <= 4294967295
}

version(part) := v if {
	m := regex.find_all_string_submatch_n(`^(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*)(?:(a|b|rc)(0|[1-9][0-9]*))?)?)?$`, part, 1)[0]
	v := {
		"major": u32(m[1]),
		"minor": optional_u32(m[2]),
		"patch": optional_u32(m[3]),
		"pre": non_empty(m[4]),
	}
	pre_number_ok(m[5])
}

non_empty(text) if {
	text != ""
} else := false

optional_u32(digits) := null if {
	digits == ""
} else := u32(digits)

pre_number_ok(digits) if digits == ""

pre_number_ok(digits) if u32(digits)

python_tag(ref) := {"version": null, "rc_line": false} if {
	tag_text(ref) == "latest"
} else := {"version": v, "rc_line": rc_line_after(v, split(tag_text(ref), "-"), 1)} if {
	v := version(split(tag_text(ref), "-")[0])
} else := {"version": null, "rc_line": is_rc(split(tag_text(ref), "-")[0])}

is_rc(part) if {
	part == "rc"
} else := false

tag_text(ref) := ref.tag if {
	ref.tagged
} else := "latest"

rc_line_after(v, parts, next) if {
	v.minor != null
	v.patch == null
	count(parts) > next
	parts[next] == "rc"
} else := false

float_rank(tag) := 0 if {
	tag.version == null
} else := 1 if {
	tag.version.minor == null
} else := 2 if {
	tag.version.patch == null
} else := 3

float_names := ["latest", "major", "minor", "patch", "pinned"]

prerelease(tag) if tag.rc_line

prerelease(tag) if tag.version.pre

# ---- End of life ----

today := [to_number(p) | some p in split(input.parameters.today, "-")] if {
	is_string(input.parameters.today)
	input.parameters.today != ""
} else := time.date(time.now_ns())

today_number := ((today[0] * 10000) + (today[1] * 100)) + today[2]

eol_past(entry) if {
	entry.day != null
	today_number >= ((entry.year * 10000) + (entry.month * 100)) + entry.day
}

eol_past(entry) if {
	entry.day == null
	today_number > ((entry.year * 10000) + (entry.month * 100)) + 31
}

eol_entry(line) := [e | some e in input.parameters.eol; e.major == line[0]; e.minor == line[1]][0]

eol_line(ref, src) := [v.major, v.minor] if {
	official_like(src)
	v := python_tag(ref).version
	v != null
	v.minor != null
} else := src.line if {
	not official_like(src)
	src.kind == "derived"
	src.line != null
}

# Whether every part of the tag is one docker-library uses, in its order: [version] [-rc] [-variant] [-os].
tag_recognised(ref) := true if {
	tag_text(ref) == "latest"
} else := true if {
	parts := split(tag_text(ref), "-")
	rest := array.slice(parts, consumed_parts(parts), count(parts))
	known_rest(rest)
} else := false

consumed_parts(parts) := 2 if {
	v := version(parts[0])
	v.minor != null
	v.patch == null
	count(parts) > 1
	parts[1] == "rc"
} else := 1 if {
	version(parts[0])
} else := 1 if {
	parts[0] == "rc"
} else := 0

known_rest(rest) if count(rest) == 0

known_rest(rest) if {
	count(rest) == 1
	rest[0] in {"slim", "alpine", "windowsservercore", "nanoserver", "onbuild"}
}

known_rest(rest) if {
	count(rest) == 1
	alpine_release(rest[0])
}

known_rest(rest) if {
	count(rest) == 1
	rest[0] in debian_codenames
}

known_rest(rest) if {
	count(rest) == 2
	rest[0] == "slim"
	rest[1] in debian_codenames
}

known_rest(rest) if {
	count(rest) == 2
	rest[0] in {"windowsservercore", "nanoserver"}
	rest[1] in windows_releases
}

alpine_release(part) if {
	m := regex.find_all_string_submatch_n(`^alpine(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`, part, 1)[0]
	u32(m[1])
	u32(m[2])
}

debian_codenames := {"wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie", "forky", "duke"}

windows_releases := {"ltsc2016", "ltsc2019", "ltsc2022", "ltsc2025", "1709", "1803", "1809", "sac2016"}
