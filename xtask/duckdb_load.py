"""The DuckDB peer of `cargo xtask bench`: a typed load of a generated export
into a SQLite database, as a user of DuckDB would write it.

Written into target/bench by xtask (src/bench.rs includes this file) and run
with the bench's own venv:

    python duckdb_load.py SPEC.json DB.sqlite

SPEC.json, written by xtask from the generator's manifest:

    {"extensions": ["/path/sqlite_scanner.duckdb_extension", ...],
     "files": [{"path": "...", "table": "Students", "rows": 2000,
                "delimiter": "\\t", "header": "numbered", "columns": [...],
                "quoted": false, "encoding": "utf-8"}, ...]}

`encoding` is "utf-8" or DuckDB's name of another one ("CP1252" for a
Windows-1252 export, read through the encodings extension, which xtask then
lists among the extensions).

Each file becomes table <table> of DB.sqlite, ATTACHed with (TYPE sqlite),
through read_csv with type detection over the whole file (sample_size=-1).
Column names are DuckDB's own from the header line (`[01]Last_Name`,
`STUDENTS.LAST_NAME`); a headerless file gets the manifest's names, as a
user would pass them. Rows DuckDB cannot read (a tab inside a value gives a
row too many fields) are skipped and kept in its reject tables
(store_rejects), so the load never aborts; they are counted per table.

Prints one JSON object on stdout:

    {"seconds": 1.23, "db_bytes": 4567,
     "tables": [{"table": "StoredGrades", "file": "storedgrades.txt",
                 "expected": 46745, "rows": 46742, "dropped": 3,
                 "errors": "TOO MANY COLUMNS: 3"}, ...]}

`expected` is the manifest's row count, `dropped` what DuckDB did not load,
`errors` its reject table by error type (a row can count under two types).

`seconds` runs from connecting to DuckDB to the last table committed and the
database detached (importing the duckdb module is not in it; the whole
process is timed by xtask). Extensions are loaded from files (LOAD 'path'),
never installed, so no network is needed.
"""

import json
import os
import sqlite3
import sys
import time


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def ident(s):
    return '"' + s.replace('"', '""') + '"'


def read_csv_call(f):
    opts = [
        "delim=" + sql_str(f["delimiter"]),
        "auto_detect=true",
        "all_varchar=false",
        "sample_size=-1",
        "store_rejects=true",
        "rejects_table=" + sql_str("rejects_" + f["table"]),
        "rejects_scan=" + sql_str("scans_" + f["table"]),
    ]
    if f["header"] == "none":
        opts.append("header=false")
        opts.append("names=[" + ", ".join(sql_str(c) for c in f["columns"]) + "]")
    else:
        opts.append("header=true")
    if f["quoted"]:
        opts.append("quote='\"'")
        opts.append("escape='\"'")
    else:
        # Unquoted exports carry literal quotes inside values.
        opts.append("quote=''")
        opts.append("escape=''")
    if f["encoding"] != "utf-8":
        opts.append("encoding=" + sql_str(f["encoding"]))
    return "read_csv(" + sql_str(f["path"]) + ", " + ", ".join(opts) + ")"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: duckdb_load.py SPEC.json DB.sqlite")
    spec_path, db_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    for suffix in ("", "-journal", "-wal"):
        if os.path.exists(db_path + suffix):
            os.remove(db_path + suffix)

    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    for ext in spec["extensions"]:
        con.execute("LOAD " + sql_str(ext))
    con.execute("ATTACH " + sql_str(db_path) + " AS db (TYPE sqlite)")
    for f in spec["files"]:
        try:
            con.execute(
                "CREATE TABLE db." + ident(f["table"]) + " AS SELECT * FROM " + read_csv_call(f)
            )
        except duckdb.Error as e:
            # Some messages list every supported encoding: keep the start.
            sys.exit("DuckDB could not load %s: %s" % (f["path"], str(e)[:600]))
    con.execute("DETACH db")
    seconds = time.perf_counter() - start

    reasons = {}
    for f in spec["files"]:
        rows = con.execute(
            "SELECT error_type::VARCHAR, count(*) FROM " + ident("rejects_" + f["table"]) + " GROUP BY 1"
        ).fetchall()
        reasons[f["table"]] = ", ".join("%s: %d" % (k, n) for k, n in sorted(rows))
    con.close()

    tables = []
    check = sqlite3.connect(db_path)
    for f in spec["files"]:
        (n,) = check.execute("SELECT count(*) FROM " + ident(f["table"])).fetchone()
        tables.append(
            {
                "table": f["table"],
                "file": os.path.basename(f["path"]),
                "expected": f["rows"],
                "rows": n,
                "dropped": f["rows"] - n,
                "errors": reasons[f["table"]],
            }
        )
    check.close()
    out = {"seconds": seconds, "db_bytes": os.path.getsize(db_path), "tables": tables}
    # One table per line, so the figures can be read without a JSON library.
    print("{")
    print('  "seconds": %s,' % json.dumps(out["seconds"]))
    print('  "db_bytes": %d,' % out["db_bytes"])
    print('  "tables": [')
    for i, t in enumerate(tables):
        print("    " + json.dumps(t) + ("," if i + 1 < len(tables) else ""))
    print("  ]")
    print("}")


if __name__ == "__main__":
    main()
