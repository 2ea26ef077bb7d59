#!/usr/bin/env python3
"""Fails when a server log holds a secret: a demo or test password, an access
or seat token (JWT), an API key, or any licence's coupon code from the
database the server ran on.

    scripts/check-logs.py SERVER_LOG SQLITE_DB
"""
import re
import sqlite3
import sys

log_path, db_path = sys.argv[1], sys.argv[2]
log = open(log_path, encoding="utf-8", errors="replace").read()

patterns = {
    "a password": re.compile(r"correct horse|leasehold-demo"),
    "a JWT (access or seat token)": re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"),
    "an API key": re.compile(r"\blh_[A-Za-z0-9_-]{16,}"),
}
found = [name for name, pattern in patterns.items() if pattern.search(log)]

codes = [row[0] for row in sqlite3.connect(db_path).execute("SELECT coupon_code FROM licences")]
if not codes:
    sys.exit("no coupon codes in the database: the check would prove nothing")
leaked = [code for code in codes if code in log]
if leaked:
    found.append(f"{len(leaked)} coupon code(s)")

lines = log.count("\n")
if lines < 10:
    sys.exit(f"the server log has {lines} lines: the check would prove nothing")
if found:
    print(f"the server logged secrets: {', '.join(found)}")
    sys.exit(1)
print(f"no secrets in {lines} log lines ({len(codes)} coupon codes, passwords, tokens, API keys checked)")
