"""C's surface against tests/conformance/surface.json: the functions the library exports,
the fields of each options struct, a getter per error field, the result codes, and the
health statuses and event kinds. Run by `make test-c` with the
built shared library as its argument."""

import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SURFACE = json.loads((ROOT / "tests/conformance/surface.json").read_text())
HEADER = (ROOT / "bindings-c/include/oauth_refresh.h").read_text()


def c_name(name, kind):
    """C spells options as the core does, durations in milliseconds with `_ms`."""
    return f"{name}_ms" if kind == "duration" else name


def struct_fields(struct):
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), HEADER, re.S)
    assert body, f"{struct} is not in the header"
    text = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
    return {m.group(1) for m in re.finditer(r"(\w+)(?:\[[^\]]*\])?;", text)}


# Whose options each struct holds (one struct serves the Redis and PostgreSQL stores), what
# it holds besides, and how C spells an option in several fields (a map is two arrays and a
# length).
OWN = {
    "oauth_refresh_client_options": (["client"], set()),
    "oauth_refresh_manager_options": (["manager"], {"store", "on_refresh", "user_data"}),
    "oauth_refresh_accounts_options": (["accounts"], {"store", "on_event", "context"}),
    "oauth_refresh_store_options": (["redis_store", "postgres_store"], {"account"}),
}
SPELLED = {"headers": {"header_names", "header_values", "headers_len"}}

failures = []
for struct, (kinds, own) in OWN.items():
    want = set(own)
    for kind in kinds:
        for name, k in SURFACE["options"][kind].items():
            want |= SPELLED.get(name, {c_name(name, k)})
    got = struct_fields(struct)
    if got != want:
        failures.append(f"{struct}: missing {sorted(want - got)}, unexpected {sorted(got - want)}")
for kind in ("redis_store", "postgres_store"):
    if not set(SURFACE["options"]["file_store"]) <= set(SURFACE["options"][kind]):
        failures.append(f"oauth_refresh_store_options serves every store: a FileStore option is not in {kind}")

nm = subprocess.run(["nm", "-D", "--defined-only", sys.argv[1]], capture_output=True, text=True, check=True)
exported = sorted(f[2] for f in (line.split() for line in nm.stdout.splitlines())
                  if len(f) == 3 and f[1] == "T" and f[2].startswith("oauth_refresh_"))
if exported != SURFACE["exports"]["c"]:
    want, got = set(SURFACE["exports"]["c"]), set(exported)
    failures.append(f"exports: missing {sorted(want - got)}, unexpected {sorted(got - want)}")
declared = set(re.findall(r"\b(oauth_refresh_\w+)\(", HEADER))
if not set(exported) <= declared:
    failures.append(f"exported but not declared: {sorted(set(exported) - declared)}")

for field, kind in SURFACE["error_fields"].items():
    if f"oauth_refresh_error_{c_name(field, kind)}" not in exported:
        failures.append(f"no getter for the error field {field}")

results = set(re.findall(r"OAUTH_REFRESH_RESULT_(\w+)", HEADER))
for code in SURFACE["error_codes"]:
    # A caught panic has been OAUTH_REFRESH_RESULT_PANIC since the first version.
    if ("PANIC" if code == "internal" else code.upper()) not in results:
        failures.append(f"no result code for {code}")

for enum, names in (("HEALTH_STATUS", SURFACE["health_statuses"]), ("EVENT_KIND", SURFACE["event_kinds"])):
    values = set(re.findall(r"OAUTH_REFRESH_%s_(\w+) =" % enum, HEADER))
    if values != {name.upper() for name in names}:
        failures.append(f"oauth_refresh_{enum.lower()}: {sorted(values)} is not {sorted(names)}")

for f in failures:
    print("FAIL", f)
print(f"C surface: {len(failures)} failures")
sys.exit(1 if failures else 0)
