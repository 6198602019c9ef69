#!/usr/bin/env python3
"""Generate a DolphinDB ABI facts file from an official `include/` folder.

    # from a checkout (or mirror) of the public DolphinDBPlugin repository, one branch:
    python3 tools/abi/gen_facts.py --repo PATH/TO/DolphinDBPlugin --branch release200.16
    # or from any include folder:
    python3 tools/abi/gen_facts.py --include PATH/include --version 2.00.16 --descriptor long

It compiles tools/abi/probe.cpp against the headers with the server's flags, runs it,
reads mangled names from its object file and the destructor slots from GCC's class
dump, and writes facts/<version>.json. Only facts (numbers, names, layouts) are written;
no header text ever leaves the temporary build folder.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# gnu++11 + _GLIBCXX_USE_INT128: a current libstdc++ already specialises numeric_limits
# for __int128, which some header branches (2.00.10) would otherwise define again.
FLAGS = ["-std=gnu++11", "-D_GLIBCXX_USE_INT128=1", "-O0", "-w", "-D_GLIBCXX_USE_CXX11_ABI=0", "-DLOCKFREE_SYMBASE", "-DLINUX"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def export_branch(repo, branch, dest):
    """git archive the include/ folder and the official httpClient descriptor of a branch."""
    archive = subprocess.run(["git", "-C", repo, "archive", branch, "include"],
                             capture_output=True, check=False).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=False, capture_output=True)
    desc = run(["git", "-C", repo, "show", f"{branch}:httpClient/PluginHttpClient.txt"])
    return os.path.join(dest, "include"), desc


def descriptor_facts(desc_text):
    lines = [l.strip() for l in desc_text.splitlines() if l.strip()]
    head = lines[0].split(",")
    # a release descriptor may carry four or five parts (1.30.21.1.1): the server is
    # matched on the first three
    version = ".".join(head[2].strip().split(".")[:3]) if len(head) > 2 else None
    fields = len(lines[1].split(",", 7))
    return version, ("long" if fields >= 7 else "short")


def branch_version(branch):
    """release130.19 -> 1.30.19, release300.3 -> 3.00.3 (the branch tips release130 and
    release200 carry no version in their name: give --version)."""
    m = re.fullmatch(r"release(\d)(\d\d)\.(\d+)", branch or "")
    return f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else None


def demangle(names):
    out = run(["c++filt"], input="\n".join(names))
    return dict(zip(names, out.splitlines()))


def symbol_facts(obj):
    names = [l.split()[-1] for l in run(["nm", obj]).splitlines() if l.split()]
    dem = demangle(names)

    def find(pattern, required=True):
        for mangled, d in dem.items():
            if re.fullmatch(pattern, d):
                return mangled, d
        if required:
            sys.exit(f"gen_facts: no symbol matches {pattern}")
        return None, None

    ns = r"(?:ddb::)?"
    syms = {}
    syms["ver"] = find(ns + r"Util::VER")[0]
    syms["createConstant"] = find(ns + r"Util::createConstant\(.*\)")[0]
    m, d = find(ns + r"Util::createDictionary\(.*\)")
    syms["createDictionary"] = m
    params = d[d.index("(") + 1:d.rindex(")")]
    depth, count = 0, 1
    for ch in params:
        depth += ch in "<("
        depth -= ch in ">)"
        count += ch == "," and depth == 0
    syms["createDictionaryParams"] = count
    syms["dolphinStringAssign"] = find(ns + r"DolphinString::assign\(char const\*, unsigned long\)")[0]
    syms["dolphinStringClear"] = find(ns + r"DolphinString::clear\(\)")[0]
    for cls in ("RuntimeException", "IllegalArgumentException"):
        syms[cls + "Vtable"] = find(r"vtable for " + ns + cls)[0]
        syms[cls + "Typeinfo"] = find(r"typeinfo for " + ns + cls)[0]
    syms["namespace"] = "ddb" if dem[syms["ver"]].startswith("ddb::") else ""
    return syms


def destructor_slots(class_dump):
    """Slots of Constant's destructor pair, from GCC's -fdump-lang-class output."""
    text = open(class_dump).read()
    m = re.search(r"^Vtable for (?:ddb::)?Constant\n.*?: (\d+) entries\n(.*?)\n\n", text, re.S | re.M)
    if not m:
        sys.exit("gen_facts: no vtable for Constant in the class dump")
    entries = int(m.group(1))
    slots = []
    for line in m.group(2).splitlines():
        off, _, what = line.strip().partition(" ")
        off, what = int(off), what.strip()
        if off < 16:
            continue  # offset-to-top and typeinfo
        if what == "0" or "::~" in what:
            slots.append((off - 16) // 8)
    if len(slots) != 2 or slots[1] != slots[0] + 1:
        sys.exit(f"gen_facts: unexpected destructor entries {slots}")
    return {"complete": slots[0], "deleting": slots[1]}, entries


def probe_facts(output):
    facts = {"slots": {}, "enums": {}, "fields": {}, "layouts": {}, "sizes": {}, "nulls": {}}
    for line in output.splitlines():
        key, _, rest = line.partition(" ")
        parts = key.split(".")
        if parts[0] == "slot":
            v = int(rest)
            if v >= 0:
                facts["slots"][parts[1]] = v
        elif parts[0] == "enum":
            facts["enums"][parts[1]] = int(rest)
        elif parts[0] == "null":
            facts["nulls"][parts[1]] = int(rest)
        elif parts[0] == "sizeof":
            facts["sizes"][parts[1]] = int(rest)
        elif parts[0] == "field":
            byte, bit, width = map(int, rest.split())
            facts["fields"][parts[1]] = {"byte": byte, "bit": bit, "width": width}
        elif parts[0] == "layout":
            lay = facts["layouts"].setdefault(parts[1], {})
            if parts[2] == "word":
                off, what = rest.split()
                lay.setdefault("words", {})[off] = what
            elif parts[2] == "empty":
                lay["empty"] = [int(x) for x in rest.split()]
            else:
                lay[parts[2]] = int(rest)
    return facts


def flag_facts(fields, slots):
    """Express the flag_ accessors as (offset, width, shifts) of one flag word."""
    offset = fields["temporary"]["byte"]
    width = 4 if "type" in fields else 2
    def bitpos(f):
        return (f["byte"] - offset) * 8 + f["bit"]
    out = {"offset": offset, "width": width,
           "form": {"shift": bitpos(fields["form"]), "bits": fields["form"]["width"]},
           "nothing": {"shift": bitpos(fields["nothing"]), "bits": 1},
           "temporary": {"shift": bitpos(fields["temporary"]), "bits": 1}}
    for name in ("type", "category"):
        if name in fields:
            out[name] = {"shift": bitpos(fields[name]), "bits": fields[name]["width"]}
        elif name == "type" and "getType" not in slots:
            sys.exit("gen_facts: type is neither an inline flag field nor a virtual method")
    out["virtualType"] = "type" not in fields
    out["virtualCategory"] = "category" not in fields
    return out


def exception_facts(layout):
    words = layout["words"]
    strings = [int(o) for o, w in words.items() if w != "zero"]
    if any(w == "other" for w in words.values()):
        sys.exit(f"gen_facts: unexpected member in exception layout {words}")
    msg = [int(o) for o, w in words.items() if w == "marker1"]
    fn = [int(o) for o, w in words.items() if w == "marker2"]
    out = {"size": layout["size"], "strings": sorted(strings), "message": msg[0]}
    if fn:
        out["function"] = fn[0]
    return out


def generate(include, version, descriptor):
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "probe.o")
        exe = os.path.join(tmp, "probe")
        run(["g++", *FLAGS, "-I", include, "-fdump-lang-class", "-c",
             os.path.join(HERE, "probe.cpp"), "-o", obj], cwd=tmp)
        run(["g++", "-no-pie", obj, "-o", exe, "-Wl,--unresolved-symbols=ignore-all"], cwd=tmp)
        raw = probe_facts(run([exe]))
        dumps = [f for f in os.listdir(tmp) if f.endswith(".class")]
        dtor, vtable_entries = destructor_slots(os.path.join(tmp, dumps[0]))
        syms = symbol_facts(obj)
    lay = raw["layouts"]
    counter = lay["Counter"]
    return {
        "version": version,
        "descriptor": descriptor,
        "namespace": syms.pop("namespace"),
        "slots": raw["slots"],
        "destructor": dtor,
        "constantVtableEntries": vtable_entries,
        "flag": flag_facts(raw["fields"], raw["slots"]),
        "enums": raw["enums"],
        "counter": {"size": counter["size"], "p": counter["p"], "count": counter["count"]},
        "dolphinString": {"size": lay["DolphinString"]["size"], "empty": lay["DolphinString"]["empty"]},
        "runtimeException": exception_facts(lay["RuntimeException"]),
        "illegalArgumentException": exception_facts(lay["IllegalArgumentException"]),
        "symbols": syms,
        "sizes": raw["sizes"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", help="a git checkout or mirror of dolphindb/DolphinDBPlugin")
    ap.add_argument("--branch", help="release branch to read, e.g. release200.16")
    ap.add_argument("--include", help="an include/ folder (instead of --repo/--branch)")
    ap.add_argument("--version", help="server version (default: the branch's httpClient descriptor)")
    ap.add_argument("--descriptor", choices=["short", "long"], help="descriptor line format")
    ap.add_argument("--out", default=os.path.join(ROOT, "facts"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        include, version, descriptor = a.include, a.version, a.descriptor
        if a.repo:
            include, desc = export_branch(a.repo, a.branch, tmp)
            v, d = descriptor_facts(desc)
            version, descriptor = version or v or branch_version(a.branch), descriptor or d
        if not (include and version and descriptor):
            ap.error("give --repo and --branch, or --include, --version and --descriptor")
        facts = generate(include, version, descriptor)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, f"{version}.json")
    with open(path, "w") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{path}: getString slot {facts['slots']['getString']}, destructor "
          f"{facts['destructor']['complete']}/{facts['destructor']['deleting']}, flag "
          f"{'u32' if facts['flag']['width'] == 4 else 'u16'}@{facts['flag']['offset']}, counter "
          f"{facts['counter']['size']} bytes{', namespace ddb' if facts['namespace'] else ''}")


if __name__ == "__main__":
    main()
