#!/usr/bin/env python3
"""Generate DolphinDB ABI facts files from an official `include/` folder.

    # from a checkout (or mirror) of the public DolphinDBPlugin repository, one branch:
    python3 tools/abi/gen_facts.py --repo PATH/TO/DolphinDBPlugin --branch release200.16
    # or from any include folder:
    python3 tools/abi/gen_facts.py --include PATH/include --version 2.00.16 --descriptor long
    # one target and C++ string ABI only (default: every target whose compiler is present,
    # both string ABIs):
    python3 tools/abi/gen_facts.py ... --arch aarch64 --flavour cxx11

Targets: x86_64 (g++) and aarch64 (aarch64-linux-gnu-g++, the probe run with qemu-aarch64).
Flavours: "standard" (-D_GLIBCXX_USE_CXX11_ABI=0, how DolphinDB and its plugins are built)
and "cxx11" (-D_GLIBCXX_USE_CXX11_ABI=1, the "Linux_ABI" server builds).

For each target and flavour it compiles tools/abi/probe.cpp against the headers with the
server's flags, runs it, reads mangled names from its object file and the vtables from GCC's
class dump, then compiles a second, generated file of `ref_*` functions whose relocations
name the exact function each class's vtable holds at each slot the plugin uses (for the
plugin's load-time self-check), and writes facts/<arch>/<flavour>/<version>.json. Only facts
(numbers, names, layouts) are written; no header text ever leaves the temporary build folder.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# gnu++11 + _GLIBCXX_USE_INT128: a current libstdc++ already specialises numeric_limits
# for __int128, which some header branches (2.00.10) would otherwise define again.
BASE_FLAGS = ["-std=gnu++11", "-D_GLIBCXX_USE_INT128=1", "-O0", "-w", "-DLOCKFREE_SYMBASE", "-DLINUX"]
FLAVOURS = {"standard": 0, "cxx11": 1}
TARGETS = {
    "x86_64": {"cxx": "g++", "run": []},
    "aarch64": {"cxx": "aarch64-linux-gnu-g++",
                "run": ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"]},
}
# The classes whose vtables the self-check compares with the server's exported ones.
CHECK_CLASSES = ["String", "Int", "Long", "Double"]
CHECK_EXCEPTIONS = ["RuntimeException", "IllegalArgumentException"]
# Key -> (method name, parameter list of the ref function, arguments of the call).
CHECK_METHODS = {
    "getString": ("getString", "", ""),
    "getStringAt": ("getString", ", INDEX i", "i"),
    "getBool": ("getBool", "", ""),
    "getInt": ("getInt", "", ""),
    "getLong": ("getLong", "", ""),
    "getDouble": ("getDouble", "", ""),
    "isNull": ("isNull", "", ""),
    "size": ("size", "", ""),
    "getAt": ("get", ", INDEX i", "i"),
    "keys": ("keys", "", ""),
    "values": ("values", "", ""),
    "setKeyValue": ("set", ", const ConstantSP& k, const ConstantSP& v", "k, v"),
    "setAt": ("set", ", INDEX i, const ConstantSP& v", "i, v"),
    "setBool": ("setBool", ", char v", "v"),
    "setInt": ("setInt", ", int v", "v"),
    "setLong": ("setLong", ", long long v", "v"),
    "setDouble": ("setDouble", ", double v", "v"),
    "setString": ("setString", ", const DolphinString& v", "v"),
    "getType": ("getType", "", ""),
    "getCategory": ("getCategory", "", ""),
}


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
    if not names:
        return {}
    out = run(["c++filt"], input="\n".join(names))
    return dict(zip(names, out.splitlines()))


def count_params(demangled):
    params = demangled[demangled.index("(") + 1:demangled.rindex(")")]
    depth, count = 0, 1
    for ch in params:
        depth += ch in "<("
        depth -= ch in ">)"
        count += ch == "," and depth == 0
    return count


def symbol_facts(obj):
    names = [l.split()[-1] for l in run(["nm", obj]).splitlines() if l.split()]
    dem = demangle(names)

    def find(pattern):
        for mangled, d in dem.items():
            if re.fullmatch(pattern, d):
                return mangled, d
        sys.exit(f"gen_facts: no symbol matches {pattern}")

    ns = r"(?:ddb::)?"
    syms = {}
    m, d = find(ns + r"Util::VER(?:\[abi:cxx11\])?")
    syms["ver"] = m
    syms["namespace"] = "ddb" if d.startswith("ddb::") else ""
    syms["createConstant"] = find(ns + r"Util::createConstant\(.*\)")[0]
    m, d = find(ns + r"Util::createDictionary\(.*\)")
    syms["createDictionary"] = m
    syms["createDictionaryParams"] = count_params(d)
    m, d = find(ns + r"Util::createVector\(.*\)")
    syms["createVector"] = m
    syms["createVectorParams"] = count_params(d)
    syms["createTable"] = find(ns + r"Util::createTable\(std::vector<std::(?:__cxx11::)?(?:basic_)?string.*\)")[0]
    syms["dolphinStringAssign"] = find(ns + r"DolphinString::assign\(char const\*, unsigned long\)")[0]
    syms["dolphinStringClear"] = find(ns + r"DolphinString::clear\(\)")[0]
    for cls in CHECK_EXCEPTIONS:
        syms[cls + "Vtable"] = find(r"vtable for " + ns + cls)[0]
        syms[cls + "Typeinfo"] = find(r"typeinfo for " + ns + cls)[0]
    return syms


def class_vtables(class_dump, classes):
    """{class: (vtable symbol, entries incl. the two header words, [owner per slot])} from
    GCC's -fdump-lang-class output; slot i is the entry at byte offset 16 + 8 i."""
    text = open(class_dump).read()
    out = {}
    for cls in classes:
        m = re.search(r"^Vtable for (?:ddb::)?%s\n\S+::(\S+): (\d+) entries\n(.*?)\n\n" % re.escape(cls),
                      text, re.S | re.M)
        if not m:
            sys.exit(f"gen_facts: no vtable for {cls} in the class dump")
        owners = []
        for line in m.group(3).splitlines():
            off, _, what = line.strip().partition(" ")
            if int(off) < 16:
                continue
            what = what.strip()
            owners.append(what[len("(int (*)(...))"):] if what.startswith("(int (*)(...))") else what)
        out[cls] = (m.group(1), int(m.group(2)), owners)
    return out


def destructor_slots(owners):
    slots = [i for i, o in enumerate(owners) if o == "0" or "::~" in o]
    if len(slots) != 2 or slots[1] != slots[0] + 1:
        sys.exit(f"gen_facts: unexpected destructor entries {slots}")
    return {"complete": slots[0], "deleting": slots[1]}


def probe_facts(output):
    facts = {"slots": {}, "enums": {}, "fields": {}, "layouts": {}, "sizes": {}, "nulls": {}, "abi": {}}
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
        elif parts[0] == "abi":
            facts["abi"][parts[1]] = rest.strip()
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


def refs_source(vtables, slots, exc_what_slot):
    """C++ source of one `ref_<Class>_<key>` function per checked class and slot: a
    non-virtual call to the function the class's vtable holds at that slot."""
    lines = ['#include "CoreConcept.h"', '#include "DolphinString.h"', '#include "Exceptions.h"',
             '#include "ScalarImp.h"', "namespace ddb {}", "using namespace ddb;"]
    for cls, (_, _, owners) in vtables.items():
        if cls in CHECK_EXCEPTIONS:
            owner = owners[exc_what_slot]
            lines.append(f"void ref_{cls}_exceptionWhat({cls}* p) {{ p->{owner}(); }}")
            continue
        for key, (method, params, args) in CHECK_METHODS.items():
            if key not in slots:
                continue
            owner = owners[slots[key]]
            if not owner.endswith("::" + method):
                sys.exit(f"gen_facts: {cls} slot {slots[key]} holds {owner}, not {method}")
            lines.append(f"void ref_{cls}_{key}({cls}* p{params}) {{ p->{owner}({args}); }}")
        dtor = [o for o in owners if "::~" in o][0]
        lines.append(f"void ref_{cls}_destructor({cls}* p) {{ p->{dtor}(); }}")
    return "\n".join(lines) + "\n"


def ref_symbols(obj):
    """{ref function name: [symbols its code relocates against]} (-ffunction-sections)."""
    out, current = {}, None
    for line in run(["readelf", "-rW", obj]).splitlines():
        m = re.match(r"Relocation section '\.rela\.text\.(\S+)'", line)
        if m:
            current = m.group(1)
            out[current] = []
            continue
        if line.startswith("Relocation section"):
            current = None
            continue
        parts = line.split()
        if current and len(parts) >= 5 and re.fullmatch(r"[0-9a-f]{8,16}", parts[0]):
            out[current].append(parts[4])
    dem = demangle(list(out.keys()))
    named = {}
    for mangled, syms in out.items():
        m = re.match(r"ref_(\w+?)_(\w+)\(", dem.get(mangled, ""))
        if m:
            named[(m.group(1), m.group(2))] = syms
    return named


def self_check_facts(obj, vtables, slots):
    refs = ref_symbols(obj)
    callee_dem = demangle(sorted({s for syms in refs.values() for s in syms}))
    out = {}
    for cls, (vtable, entries, _) in vtables.items():
        methods = {}
        keys = ["exceptionWhat"] if cls in CHECK_EXCEPTIONS else \
            [k for k in CHECK_METHODS if k in slots] + ["destructor"]
        for key in keys:
            if key == "exceptionWhat":
                name = "what"
            elif key == "destructor":
                name = "~"
            else:
                name = CHECK_METHODS[key][0]
            pattern = r"::~\w+\(" if name == "~" else r"::%s(?:\[abi:cxx11\])?\(" % re.escape(name)
            cands = [s for s in refs.get((cls, key), []) if re.search(pattern, callee_dem.get(s, ""))]
            if len(cands) != 1:
                sys.exit(f"gen_facts: cannot tell which function {cls}::{key} calls: {refs.get((cls, key))}")
            if key == "destructor":
                if not cands[0].endswith("D1Ev"):
                    sys.exit(f"gen_facts: {cls} destructor symbol {cands[0]} is not a complete-object destructor")
                methods["destructorComplete"] = cands[0]
                methods["destructorDeleting"] = cands[0][:-4] + "D0Ev"
            else:
                methods[key] = cands[0]
        out[cls] = {"vtable": vtable, "entries": entries, "methods": methods}
    return out


def compile_cmd(target, flavour, include):
    t = TARGETS[target]
    return [t["cxx"], *BASE_FLAGS, f"-D_GLIBCXX_USE_CXX11_ABI={FLAVOURS[flavour]}", "-I", include]


def generate(include, version, descriptor, target, flavour):
    t = TARGETS[target]
    headers = ""
    for name in ("Types.h", "CoreConcept.h"):
        path = os.path.join(include, name)
        if os.path.exists(path):
            headers += open(path, errors="replace").read()
    extra = ["-DPROBE_HAS_DENARY"] if re.search(r"\bDENARY\b", headers) else []
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "probe.o")
        exe = os.path.join(tmp, "probe")
        cc = compile_cmd(target, flavour, include)
        run([*cc, *extra, "-fdump-lang-class", "-c", os.path.join(HERE, "probe.cpp"), "-o", obj], cwd=tmp)
        link = [t["cxx"], obj, "-o", exe, "-Wl,--unresolved-symbols=ignore-all"]
        link += ["-no-pie"] if target == "x86_64" else ["-static"]
        run(link, cwd=tmp)
        raw = probe_facts(run([*t["run"], exe]))
        if raw["abi"].get("arch") != target or int(raw["abi"].get("cxx11", -1)) != FLAVOURS[flavour]:
            sys.exit(f"gen_facts: the probe reports {raw['abi']}, expected {target}/{flavour}")
        dumps = [f for f in os.listdir(tmp) if f.endswith(".class")]
        dump = os.path.join(tmp, dumps[0])
        vtables = class_vtables(dump, ["Constant"] + CHECK_CLASSES + CHECK_EXCEPTIONS)
        const_vtable, const_entries, const_owners = vtables.pop("Constant")
        dtor = destructor_slots(const_owners)
        syms = symbol_facts(obj)
        refs_cpp = os.path.join(tmp, "refs.cpp")
        with open(refs_cpp, "w") as f:
            f.write(refs_source(vtables, raw["slots"], raw["slots"]["exceptionWhat"]))
        refs_obj = os.path.join(tmp, "refs.o")
        run([*cc, "-ffunction-sections", "-c", refs_cpp, "-o", refs_obj], cwd=tmp)
        self_check = self_check_facts(refs_obj, vtables, raw["slots"])
    lay = raw["layouts"]
    counter = lay["Counter"]
    return {
        "version": version,
        "target": {"arch": target, "flavour": flavour},
        "descriptor": descriptor,
        "namespace": syms.pop("namespace"),
        "slots": raw["slots"],
        "destructor": dtor,
        "constantVtableEntries": const_entries,
        "flag": flag_facts(raw["fields"], raw["slots"]),
        "enums": raw["enums"],
        "counter": {"size": counter["size"], "p": counter["p"], "count": counter["count"]},
        "dolphinString": {"size": lay["DolphinString"]["size"], "empty": lay["DolphinString"]["empty"]},
        "heap": {"session": lay["Heap"]["session"]},
        "runtimeException": exception_facts(lay["RuntimeException"]),
        "illegalArgumentException": exception_facts(lay["IllegalArgumentException"]),
        "symbols": syms,
        "selfCheck": self_check,
        "sizes": raw["sizes"],
    }


def available_targets():
    return [t for t, spec in TARGETS.items()
            if shutil.which(spec["cxx"]) and all(shutil.which(c) for c in spec["run"][:1])]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", help="a git checkout or mirror of dolphindb/DolphinDBPlugin")
    ap.add_argument("--branch", help="release branch to read, e.g. release200.16")
    ap.add_argument("--include", help="an include/ folder (instead of --repo/--branch)")
    ap.add_argument("--version", help="server version (default: the branch's httpClient descriptor)")
    ap.add_argument("--descriptor", choices=["short", "long"], help="descriptor line format")
    ap.add_argument("--arch", choices=sorted(TARGETS), action="append",
                    help="target (repeatable; default: every target whose tools are installed)")
    ap.add_argument("--flavour", choices=sorted(FLAVOURS), action="append",
                    help="C++ string ABI of the server build (repeatable; default: both)")
    ap.add_argument("--out", default=os.path.join(ROOT, "facts"))
    a = ap.parse_args()
    targets = a.arch or available_targets()
    flavours = a.flavour or list(FLAVOURS)
    missing = [t for t in targets if t not in available_targets()]
    if missing:
        sys.exit(f"gen_facts: no compiler or emulator for {', '.join(missing)} "
                 "(aarch64 needs g++-aarch64-linux-gnu and qemu-user)")
    with tempfile.TemporaryDirectory() as tmp:
        include, version, descriptor = a.include, a.version, a.descriptor
        if a.repo:
            include, desc = export_branch(a.repo, a.branch, tmp)
            v, d = descriptor_facts(desc)
            version, descriptor = version or v or branch_version(a.branch), descriptor or d
        if not (include and version and descriptor):
            ap.error("give --repo and --branch, or --include, --version and --descriptor")
        for target in targets:
            for flavour in flavours:
                facts = generate(include, version, descriptor, target, flavour)
                out_dir = os.path.join(a.out, target, flavour)
                os.makedirs(out_dir, exist_ok=True)
                path = os.path.join(out_dir, f"{version}.json")
                with open(path, "w") as f:
                    json.dump(facts, f, indent=1, sort_keys=True)
                    f.write("\n")
                print(f"{path}: getString slot {facts['slots']['getString']}, destructor "
                      f"{facts['destructor']['complete']}/{facts['destructor']['deleting']}, flag "
                      f"{'u32' if facts['flag']['width'] == 4 else 'u16'}@{facts['flag']['offset']}, counter "
                      f"{facts['counter']['size']} bytes, string {facts['sizes']['string']} bytes"
                      f"{', namespace ddb' if facts['namespace'] else ''}")


if __name__ == "__main__":
    main()
