#!/usr/bin/env python3
"""Runs the .dos scripts of this folder against a DolphinDB server with the Python API
(pip install dolphindb): 00_load_plugin.dos on its own first (a script calling httpClient::
is parsed before it runs), then every other NN_*.dos, each prefixed with `PEER = "<url>"`.
Usage: run_dos.py HOST PORT PEER_URL.  Exit status 1 if any script raised."""
import glob
import os
import sys
import time

import dolphindb as ddb

host, port, peer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
here = os.path.dirname(os.path.abspath(__file__))
s = ddb.session()
for attempt in range(60):  # the server needs a few seconds to start
    try:
        if s.connect(host, port, "admin", "123456"):
            break
    except Exception:
        pass
    time.sleep(2)
else:
    sys.exit(f"cannot connect to DolphinDB at {host}:{port}")
print("server:", s.run("version()"))
failed = 0
for path in sorted(glob.glob(os.path.join(here, "[0-9][0-9]_*.dos"))):
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        text = f'PEER = "{peer}"\n' + f.read()
    try:
        print(name, "->", s.run(text))
    except Exception as e:  # a failed check throws "FAILED: ..."
        failed += 1
        print(name, "FAILED:", e)
print(f"{len(glob.glob(os.path.join(here, '[0-9][0-9]_*.dos'))) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
