#!/usr/bin/env python3
"""query-qmp-schema, objects and -readconfig, with what QEMU 7.2's
qmp-cmd-test and readconfig-test expect of them.

usage: test_qmp_schema.py KESTREL

- The schema is checked as QEMU's strict QAPI visitor reads it (every
  entry exactly as qapi/introspect.json defines SchemaInfo), every type
  name it references exists, its commands are query-commands' and every
  event kestrel's sources send is in it.
- Every command without mandatory arguments that returns something runs
  under -machine none (no board, vCPUs or drives) and returns what the
  schema declares.
- object-add/object-del/-object of memory-backend-ram and rng-builtin with
  their error cases; query-memdev and /objects, the machine's RAM included.
- -readconfig sections map to their options; malformed files name
  FILE:LINE.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp_client import (QMP, OutputReader, assert_eq,  # noqa: E402
                        fresh_path, report, run_case)

KESTREL = sys.argv[1]
SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", ".."))
TMP = tempfile.mkdtemp(prefix="kestrel-schema-")
NONE = ["-nodefaults", "-machine", "none", "-accel", "qtest",
        "-display", "none"]
MiB = 1 << 20
results = []
procs = []


def case(fn):
    return run_case(fn, results, procs)


def start(args):
    """kestrel with QMP on a fresh socket; returns (process, client)."""
    path = fresh_path(TMP, "qmp.sock")
    p = subprocess.Popen([KESTREL] + args +
                         ["-qmp", f"unix:{path},server,nowait"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    procs.append(p)
    p.err = OutputReader(p.stderr)
    return p, QMP.unix(path)


def quit(p, q):
    q.execute("quit")
    assert_eq(p.wait(timeout=10), 0, "exit status")
    p.err.join(5)
    assert "CRITICAL" not in p.err.text(), p.err.text()


def fails(args, *words):
    """kestrel with args exits 1 with one error line holding words."""
    r = subprocess.run([KESTREL] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    assert_eq(r.returncode, 1, f"exit status of {args} ({r.stderr!r})")
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"{args}: {r.stderr!r}"
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return lines[0]


def error_of(q, name, **arguments):
    r = q.command(name, arguments)
    assert "error" in r, f"{name} {arguments}: expected an error, got {r}"
    return r["error"]


def generic_error(q, name, *words, **arguments):
    err = error_of(q, name, **arguments)
    assert_eq(err["class"], "GenericError", f"class of {err}")
    for w in words:
        assert w in err["desc"], f"{w!r} not in {err['desc']!r}"


# ---- the schema, as QEMU's qapi/introspect.json defines it ----

# Members per meta-type: name -> (required, check).
def is_str(v):
    return isinstance(v, str)


def str_list(v):
    return isinstance(v, list) and all(is_str(x) for x in v)


def struct_list(fields):
    return lambda v: isinstance(v, list) and all(
        strict(x, fields) is None for x in v)


def strict(obj, fields):
    """None if obj has exactly the fields (required ones present, every
    value checked), else what is wrong."""
    if not isinstance(obj, dict):
        return f"not an object: {obj!r}"
    for k in obj:
        if k not in fields:
            return f"unexpected member {k!r} in {obj}"
    for k, (required, check) in fields.items():
        if k not in obj:
            if required:
                return f"missing member {k!r} in {obj}"
        elif not check(obj[k]):
            return f"bad {k!r} in {obj}"
    return None


FEATURES = (False, str_list)
BASE = {"name": (True, is_str), "meta-type": (True, is_str),
        "features": FEATURES}
JSON_TYPES = {"string", "number", "int", "boolean", "null", "object",
              "array", "value"}
META = {
    "builtin": {"json-type": (True, lambda v: v in JSON_TYPES)},
    "enum": {"members": (True, struct_list({"name": (True, is_str),
                                            "features": FEATURES})),
             "values": (True, str_list)},
    "array": {"element-type": (True, is_str)},
    "object": {"members": (True, struct_list({
                   "name": (True, is_str), "type": (True, is_str),
                   "default": (False, lambda v: v is None),
                   "features": FEATURES})),
               "tag": (False, is_str),
               "variants": (False, struct_list({"case": (True, is_str),
                                                "type": (True, is_str)}))},
    "alternate": {"members": (True, struct_list({"type": (True, is_str)}))},
    "command": {"arg-type": (True, is_str), "ret-type": (True, is_str),
                "allow-oob": (False, lambda v: isinstance(v, bool))},
    "event": {"arg-type": (True, is_str)},
}


def check_schema(schema):
    """Problems of a SchemaInfo list (empty if none); returns (problems,
    entries by name)."""
    bad = []
    by_name = {}
    if not isinstance(schema, list):
        return [f"not a list: {schema!r}"], {}
    for e in schema:
        meta = e.get("meta-type") if isinstance(e, dict) else None
        if meta not in META:
            bad.append(f"bad meta-type: {e}")
            continue
        err = strict(e, {**BASE, **META[meta]})
        if err:
            bad.append(err)
            continue
        if e["name"] in by_name:
            bad.append(f"name {e['name']!r} twice")
        by_name[e["name"]] = e

    def ref(name, where, meta=None):
        t = by_name.get(name)
        if t is None:
            bad.append(f"{where} names {name!r}, which does not exist")
        elif meta and t["meta-type"] != meta:
            bad.append(f"{where}: {name!r} is a {t['meta-type']}, not {meta}")
        return t

    for e in by_name.values():
        meta, name = e["meta-type"], e["name"]
        if meta in ("command", "event"):
            ref(e["arg-type"], f"{meta} {name}", "object")
        if meta == "command":
            ref(e["ret-type"], f"command {name} result")
        if meta == "array":
            ref(e["element-type"], f"array {name}")
        if meta == "alternate":
            for m in e["members"]:
                ref(m["type"], f"alternate {name}")
        if meta == "enum" and e["values"] != [m["name"] for m in e["members"]]:
            bad.append(f"enum {name}: values and members differ")
        if meta == "object":
            members = {m["name"]: m for m in e["members"]}
            for m in e["members"]:
                ref(m["type"], f"member {m['name']} of {name}")
            if ("tag" in e) != ("variants" in e):
                bad.append(f"object {name}: tag and variants go together")
            if "tag" in e:
                tag = members.get(e["tag"])
                if not tag:
                    bad.append(f"object {name}: no tag member {e['tag']!r}")
                    continue
                enum = ref(tag["type"], f"tag of {name}", "enum")
                for v in e["variants"]:
                    ref(v["type"], f"variant {v['case']} of {name}", "object")
                    if enum and v["case"] not in enum["values"]:
                        bad.append(f"object {name}: case {v['case']!r} is "
                                   f"not a value of {tag['type']}")
    return bad, by_name


def value_problems(value, type_name, types, where):
    """Whether value is of the schema type (builtins, arrays, objects)."""
    t = types[type_name]
    meta = t["meta-type"]
    if meta == "builtin":
        jt = t["json-type"]
        ok = {"string": is_str,
              "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and
              not isinstance(v, bool),
              "boolean": lambda v: isinstance(v, bool),
              "null": lambda v: v is None,
              "value": lambda v: True}[jt]
        return [] if ok(value) else [f"{where}: {value!r} is not {jt}"]
    if meta == "enum":
        return [] if value in t["values"] else [f"{where}: {value!r} not in "
                                                f"{t['values']}"]
    if meta == "array":
        if not isinstance(value, list):
            return [f"{where}: not an array: {value!r}"]
        out = []
        for i, v in enumerate(value):
            out += value_problems(v, t["element-type"], types, f"{where}[{i}]")
        return out
    if meta == "object":
        if not isinstance(value, dict):
            return [f"{where}: not an object: {value!r}"]
        members = {m["name"]: m for m in t["members"]}
        out = [f"{where}: undeclared member {k!r}" for k in value
               if k not in members]
        for m in t["members"]:
            if m["name"] in value:
                out += value_problems(value[m["name"]], m["type"], types,
                                      f"{where}.{m['name']}")
            elif "default" not in m:
                out.append(f"{where}: missing member {m['name']!r}")
        return out
    return [f"{where}: cannot check a {meta}"]


def emitted_events():
    """Event names in the qmp_event_send() calls of kestrel's sources."""
    names = {}
    call = re.compile(r"qmp_event_send\(([^;]*?)\);", re.S)
    for root, dirs, files in os.walk(SRC):
        if root == SRC:     # sources only: not tests, builds, git
            dirs[:] = [d for d in dirs if d != "tests" and
                       not d.startswith((".", "build"))]
        for f in files:
            if not f.endswith(".c"):
                continue
            path = os.path.join(root, f)
            with open(path, errors="replace") as fh:
                text = fh.read()
            for m in call.finditer(text):
                for ev in re.findall(r'"([A-Z][A-Z0-9_]+)"', m.group(1)):
                    names[ev] = os.path.relpath(path, SRC)
    return names


def get_schema(q):
    schema = q.execute("query-qmp-schema")
    bad, types = check_schema(schema)
    assert not bad, "\n".join(bad[:20])
    return schema, types


@case
def schema_is_well_formed_and_complete():
    p, q = start(NONE)
    schema, types = get_schema(q)
    commands = {e["name"] for e in schema if e["meta-type"] == "command"}
    listed = {c["name"] for c in q.execute("query-commands")}
    assert_eq(commands, listed, "schema commands vs query-commands")
    assert {"query-qmp-schema", "object-add", "object-del", "query-memdev",
            "qmp_capabilities", "quit"} <= commands, commands
    for b, jt in (("str", "string"), ("int", "int"), ("bool", "boolean"),
                  ("number", "number"), ("null", "null"), ("any", "value")):
        assert_eq(types[b], {"name": b, "meta-type": "builtin",
                             "json-type": jt}, "builtin")
    # As qmp-cmd-test picks them: commands returning {} have an object
    # without members as their result (it must not run quit or stop).
    for name in ("quit", "stop", "cont", "system_reset", "object-del"):
        ret = types[types[name]["ret-type"]]
        assert ret["meta-type"] == "object" and not ret["members"], ret
    # object-add: a union on qom-type with a case per object type.
    arg = types[types["object-add"]["arg-type"]]
    assert_eq(arg["tag"], "qom-type", "object-add tag")
    cases = {v["case"]: types[v["type"]] for v in arg["variants"]}
    assert_eq(set(cases), {"memory-backend-ram", "rng-builtin", "iothread"},
              "cases")
    size = [m for m in cases["memory-backend-ram"]["members"]
            if m["name"] == "size"]
    assert size == [{"name": "size", "type": "int"}], size
    # Optional arguments have "default": null, mandatory ones none.
    hmc = {m["name"]: m for m in
           types[types["human-monitor-command"]["arg-type"]]["members"]}
    assert_eq(hmc["cpu-index"].get("default", "absent"), None, "optional")
    assert "default" not in hmc["command-line"], hmc
    # Events: every one the sources send is declared.
    events = {e["name"] for e in schema if e["meta-type"] == "event"}
    missing = {ev: f for ev, f in emitted_events().items()
               if ev not in events}
    assert not missing, f"events sent but not in the schema: {missing}"
    assert {"SHUTDOWN", "STOP", "RESUME", "RESET"} <= events, events
    # The SHUTDOWN that quit sends has the data the schema declares.
    q.execute("quit")
    ev = q.wait_event("SHUTDOWN")
    bad = value_problems(ev["data"], types["SHUTDOWN"]["arg-type"], types,
                         "SHUTDOWN data")
    assert not bad, bad
    assert_eq(p.wait(timeout=10), 0, "exit status")
    p.err.join(5)
    assert "CRITICAL" not in p.err.text(), p.err.text()


@case
def schema_checker_catches_mistakes():
    """The checker above rejects what QEMU's visitor or references would."""
    good = [{"name": "int", "meta-type": "builtin", "json-type": "int"},
            {"name": "e", "meta-type": "object", "members": []},
            {"name": "c", "meta-type": "command", "arg-type": "e",
             "ret-type": "e"}]
    assert_eq(check_schema(good)[0], [], "a good schema")
    for broken in (
            [dict(good[0], extra=1)] + good[1:],             # unknown member
            [good[0], {"name": "e", "meta-type": "object"}, good[2]],
            good[:2] + [dict(good[2], **{"arg-type": "nope"})],
            good[:2] + [dict(good[2], **{"arg-type": "int"})],  # not object
            [good[0], {"name": "e", "meta-type": "object", "members": [
                {"name": "a", "type": "int", "default": 0}]}, good[2]],
            good + [dict(good[0])]):                         # twice
        assert check_schema(broken)[0], f"accepted {broken}"


@case
def every_query_works_without_a_machine():
    """qmp-cmd-test's smoke test: each command without mandatory
    arguments and with a result runs under -machine none and returns what
    the schema says."""
    p, q = start(NONE)
    schema, types = get_schema(q)
    ran = []
    for e in schema:
        if e["meta-type"] != "command":
            continue
        arg, ret = types[e["arg-type"]], types[e["ret-type"]]
        if any("default" not in m for m in arg["members"]):
            continue
        if ret["meta-type"] == "object" and not ret["members"]:
            continue
        r = q.command(e["name"])
        assert "return" in r, f"{e['name']}: {r}"
        bad = value_problems(r["return"], e["ret-type"], types, e["name"])
        assert not bad, bad
        ran.append(e["name"])
    assert {"query-status", "query-cpus-fast", "query-memdev",
            "query-qmp-schema", "qom-list-types", "query-chardev"} <= \
        set(ran), ran
    assert_eq(q.execute("query-cpus-fast"), [], "no vCPUs")
    assert_eq(q.execute("query-memdev"), [], "no RAM without -m")
    quit(p, q)


def memdev(id, size, **kw):
    m = {"id": id, "size": size, "merge": True, "dump": True,
         "prealloc": False, "share": False, "reserve": True,
         "host-nodes": [], "policy": "default"}
    m.update(kw)
    return m


def objects(q):
    return {o["name"]: o["type"] for o in
            q.execute("qom-list", path="/objects") if o["name"] != "type"}


@case
def object_add_failure_modes():
    """QEMU's qmp/object-add-failure-modes, then kestrel's own cases."""
    p, q = start(NONE)
    ram1 = {"qom-type": "memory-backend-ram", "id": "ram1"}
    generic_error(q, "object-add", "'size' is missing", **ram1)
    generic_error(q, "object-add", "'qom-type' is missing", id="ram1")
    generic_error(q, "object-del", "'ram1' not found", id="ram1")
    q.execute("object-add", size=MiB, **ram1)
    generic_error(q, "object-add", "already exists", size=MiB, **ram1)
    q.execute("object-del", id="ram1")
    generic_error(q, "object-add", "'size'", size=str(MiB), **ram1)
    q.execute("object-add", size=MiB, **ram1)
    q.execute("object-del", id="ram1")
    generic_error(q, "object-add", "'id' is missing",
                  **{"qom-type": "memory-backend-ram", "size": MiB})
    generic_error(q, "object-add", "'size' is missing", sized=MiB, **ram1)
    q.execute("object-add", size=MiB, **ram1)
    generic_error(q, "object-del", "'id' is missing", ida="ram1")
    q.execute("object-del", id="ram1")
    generic_error(q, "object-del", "'ram1' not found", id="ram1")

    generic_error(q, "object-add", "'sized' is unexpected", size=MiB,
                  sized=1, **ram1)
    generic_error(q, "object-add", "does not accept value 'nosuch'",
                  **{"qom-type": "nosuch", "id": "x"})
    generic_error(q, "object-add", "expects an identifier",
                  **{"qom-type": "rng-builtin", "id": "1bad"})
    generic_error(q, "object-add", "'memory-backend-ram.size'", size=0,
                  **ram1)
    generic_error(q, "object-add", "'memory-backend-ram.size'", size=-1,
                  **ram1)
    generic_error(q, "object-add", "'merge'", size=MiB, merge="on", **ram1)
    generic_error(q, "object-add", "policy' doesn't take value 'bind'",
                  size=MiB, policy="bind",
                  **ram1)
    generic_error(q, "object-add", "'opened' is unexpected", opened=True,
                  **{"qom-type": "rng-builtin", "id": "rng0"})
    q.execute("object-add", size=2 * MiB, merge=False, share=True,
              reserve=False, policy="default", **ram1)
    q.execute("object-add", **{"qom-type": "rng-builtin", "id": "rng0"})
    generic_error(q, "object-add", "already exists",
                  **{"qom-type": "rng-builtin", "id": "ram1"})
    assert_eq(q.execute("query-memdev"),
              [memdev("ram1", 2 * MiB, merge=False, share=True,
                      reserve=False)], "query-memdev")
    assert_eq(objects(q), {"ram1": "child<memory-backend-ram>",
                           "rng0": "child<rng-builtin>"}, "/objects")
    props = {o["name"]: o["type"] for o in
             q.execute("qom-list", path="/objects/ram1")}
    assert_eq(props["size"], "int", "size property")
    assert_eq(q.execute("qom-get", path="/objects/ram1", property="size"),
              2 * MiB, "qom-get size")
    assert_eq(q.execute("qom-get", path="/objects/ram1", property="share"),
              True, "qom-get share")
    assert_eq(q.execute("qom-get", path="/objects/rng0", property="type"),
              "rng-builtin", "qom-get type")
    q.execute("object-del", id="rng0")
    assert_eq(objects(q), {"ram1": "child<memory-backend-ram>"}, "after del")
    quit(p, q)


@case
def machine_ram_is_a_backend():
    """QEMU's RAM backend: "ram" for -machine none with -m, "pc.ram" for
    the PC; in use, so object-del refuses it.  -object adds objects."""
    p, q = start(NONE + ["-m", "200"])
    assert_eq(q.execute("query-memdev"), [memdev("ram", 200 * MiB)], "none")
    generic_error(q, "object-del", "in use", id="ram")
    quit(p, q)
    p, q = start(["-nodefaults", "-accel", "qtest", "-display", "none",
                  "-m", "256", "-object", "rng-builtin,id=rng0",
                  "-object", "memory-backend-ram,id=mem0,size=4M,"
                  "prealloc=on,dump=off"])
    assert_eq(q.execute("query-memdev"),
              [memdev("mem0", 4 * MiB, prealloc=True, dump=False),
               memdev("pc.ram", 256 * MiB)], "pc")
    assert_eq(objects(q), {"mem0": "child<memory-backend-ram>",
                           "pc.ram": "child<memory-backend-ram>",
                           "rng0": "child<rng-builtin>"}, "/objects")
    q.execute("object-del", id="mem0")
    quit(p, q)


@case
def object_option_errors():
    for opt, words in (
            ("memory-backend-ram,id=m", ("'size' is missing",)),
            ("memory-backend-ram,size=1M", ("'id' is missing",)),
            ("memory-backend-ram,id=m,size=big",
             ("'memory-backend-ram.size'", "'big'")),
            ("memory-backend-ram,id=m,size=1M,sized=2",
             ("'memory-backend-ram.sized' not found",)),
            ("rng-builtin,id=x,filename=/dev/random",
             ("'rng-builtin.filename' not found",)),
            ("rng-random,id=x", ("Invalid object type 'rng-random'",)),
            ("id=x", ("'qom-type' is missing",)),
            ("rng-builtin,id=-x", ("expects an identifier",))):
        fails(NONE + ["-object", opt], f"-object {opt}: ", *words)
    fails(NONE + ["-object", "rng-builtin,id=r", "-object",
                  "rng-builtin,id=r"], "already exists")
    fails(["-nodefaults", "-accel", "qtest", "-display", "none", "-object",
           "memory-backend-ram,id=pc.ram,size=1M"], "'pc.ram' already exists")
    r = subprocess.run([KESTREL, "-object", "help"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0 and "memory-backend-ram" in r.stdout, r


def config(text, name="test.cfg"):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


@case
def readconfig_as_qemus_test_uses_it():
    """readconfig-test: [memory] size in MiB without a suffix (and no
    newline at the end), [object] with qom-type and id."""
    p, q = start(NONE + ["-readconfig", config('[memory]\nsize = "200"')])
    assert_eq(q.execute("query-memdev"), [memdev("ram", 200 * MiB)], "memory")
    quit(p, q)
    p, q = start(NONE + ["-readconfig", config(
        '[object]\nqom-type = "rng-builtin"\nid = "rng0"\n')])
    assert_eq(objects(q), {"rng0": "child<rng-builtin>"}, "/objects")
    quit(p, q)


@case
def readconfig_groups():
    """Each group maps to its option, in the place of -readconfig (so a
    later option overrides it), ids from [group "id"] headers."""
    disk = os.path.join(TMP, "disk.raw")
    with open(disk, "wb") as f:
        f.truncate(MiB)
    cfg = config(f'''# every group kestrel maps
[machine]
  type = "pc"
  accel = "qtest"

[memory]
  size = "64"
[smp-opts]
  cpus = "2"
[name]
  guest = "from, config"
[boot-opts]
  order = "dc"
[chardev "con0"]
  backend = "null"
[device "dbg"]
  driver = "isa-debugcon"
  iobase = "0x402"
  chardev = "con0"
[drive "d0"]
  file = "{disk}"
  format = "raw"
  if = "none"
[device]
  driver = "ide-hd"
  drive = "d0"
  id = "disk0"
[object "rng1"]
  qom-type = "rng-builtin"
[global]
  driver = "isa-debugcon"
  property = "iobase"
  value = "0x403"
''')
    p, q = start(["-nodefaults", "-display", "none", "-readconfig", cfg,
                  "-m", "96"])
    assert_eq(q.execute("query-name"), {"name": "from, config"}, "[name]")
    assert_eq(q.execute("query-memdev"), [memdev("pc.ram", 96 * MiB)],
              "-m after -readconfig wins")
    assert_eq(q.execute("qom-get", path="/machine/peripheral/dbg",
                        property="iobase"), 0x402, "[device] property")
    assert_eq(q.execute("qom-get", path="/machine/peripheral/disk0",
                        property="drive"), "d0", "[drive] by id")
    labels = {c["label"] for c in q.execute("query-chardev")}
    assert "con0" in labels, labels
    assert_eq(objects(q)["rng1"], "child<rng-builtin>", "[object \"id\"]")
    quit(p, q)


@case
def readconfig_errors_name_file_and_line():
    for text, line, words in (
            ('[memory]\nsize = "200"\n[nosuch]\n', 3,
             ("there is no option group 'nosuch'",)),
            ('size = "200"\n', 1, ("before any [group]",)),
            ('[memory]\n\n# c\nsize = 200\n', 4, ("double quotes",)),
            ('[memory]\nsize = "200" junk\n', 2, ("double quotes",)),
            ('[memory]\nsize "200"\n', 2, ("expected key = \"value\"",)),
            ('[memory "m"]\nsize = "200"\n', 1, ("[memory] takes no id",)),
            ('[memory\n', 1, ("expected [group]",)),
            ('[drive "d"]\nid = "e"\n', 1, ("the id is given twice",)),
            ('[global]\ndriver = "isa-debugcon"\n', 1,
             ("needs driver, property and value",)),
            # Keys and values are the option's to check:
            ('[memory]\nsizex = "200"\n', 1, ("-m sizex=200", "sizex")),
            ('[memory]\nsize = "20x"\n', 1, ("invalid RAM size '20x'",)),
            ('[machine]\n type = "none"\n foo = "1"\n', 1, ("foo",)),
            ('[object]\nqom-type = "rng-builtin"\n', 1,
             ("'id' is missing",))):
        path = config(text)
        fails(NONE + ["-readconfig", path], f"{path}:{line}: ", *words)
    fails(NONE + ["-readconfig", os.path.join(TMP, "nonexistent.cfg")],
          "-readconfig ", "nonexistent.cfg")
    fails(NONE + ["-readconfig", config('[memory]\0\nsize = "1"\n')],
          "NUL byte")
    fails(NONE + ["-readconfig"], "requires an argument")


def main():
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
