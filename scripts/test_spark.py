"""The Spark tests of scripts/test-spark: scripts/spark-recommend in local mode on MovieLens 100K.

Usage: test_spark.py WORKDIR LIGHTFM_BINARY MODEL INTERACTIONS DIRECT_CSV

DIRECT_CSV is `lightfm recommend --model MODEL --exclude INTERACTIONS` (single process, with its
header). Runs three jobs and checks:
1. local[2]: the Parquet output has the direct output's users, items and ranks, scores within
   1e-5, no user missing and no row duplicated;
2. local[2,4] with partition 1 killed on its first attempt: the job succeeds after the retry
   and its output equals the clean run's;
3. an interactions file with a user the model does not know: the job fails and our error
   message (line number and content) is in Spark's error.
Prints `spark: N passed, N failed` last and exits non-zero when a check fails.
"""

import csv
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOLERANCE = 1e-5


def run_job(workdir, name, binary, model, interactions, master, extra_env=None, users=None):
    output = os.path.join(workdir, name)
    command = [
        os.path.join(HERE, "spark-recommend"), "--model", model, "--interactions",
        interactions, "--output", output, "--master", master, "--partitions", "4",
        "--binary", binary, "--batch-size", "100", "--top", "10",
    ]
    if users:
        command += ["--users", users]
    env = dict(os.environ)
    env.update(extra_env or {})
    started = time.monotonic()
    result = subprocess.run(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    log = os.path.join(workdir, name + ".log")
    with open(log, "w") as f:
        f.write(result.stdout)
    print(f"  {name}: exit {result.returncode} in {time.monotonic() - started:.1f} s (log {log})")
    return result, output


def read_direct(path):
    rows = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        assert header == ["user", "rank", "item", "score"], header
        for user, rank, item, score in reader:
            rows[(user, int(rank))] = (item, float(score))
    return rows


def read_parquet(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    assert table.column_names == ["user", "rank", "item", "score"], table.column_names
    rows = {}
    duplicates = 0
    columns = [table.column(name).to_pylist() for name in table.column_names]
    for user, rank, item, score in zip(*columns):
        if (user, rank) in rows:
            duplicates += 1
        rows[(user, rank)] = (item, score)
    return rows, table.num_rows, duplicates


def compare(expected, path, exact=False):
    """Problems between the direct rows and a Parquet output, as strings (empty when equal)."""
    if not os.path.exists(os.path.join(path, "_SUCCESS")):
        return [f"{path} has no _SUCCESS marker"]
    rows, count, duplicates = read_parquet(path)
    problems = []
    if duplicates:
        problems.append(f"{duplicates} duplicated (user, rank) rows")
    users_expected = {user for user, _ in expected}
    users_found = {user for user, _ in rows}
    if users_found != users_expected:
        problems.append(
            f"{len(users_expected - users_found)} users missing, "
            f"{len(users_found - users_expected)} unexpected")
    if count != len(expected):
        problems.append(f"{count} rows, expected {len(expected)}")
    wrong_items = [key for key in expected if key in rows and rows[key][0] != expected[key][0]]
    if wrong_items:
        key = wrong_items[0]
        problems.append(
            f"{len(wrong_items)} ranks hold another item (first: user {key[0]} rank {key[1]}: "
            f"{rows[key][0]}, expected {expected[key][0]})")
    limit = 0 if exact else TOLERANCE
    far = [key for key in expected if key in rows and abs(rows[key][1] - expected[key][1]) > limit]
    if far:
        key = far[0]
        problems.append(
            f"{len(far)} scores differ by more than {limit} (first: user {key[0]} rank {key[1]}: "
            f"{rows[key][1]}, expected {expected[key][1]})")
    return problems


def main(workdir, binary, model, interactions, direct_csv):
    expected = read_direct(direct_csv)
    results = []

    def check(name, problems):
        results.append(not problems)
        print(f"{'PASS' if not problems else 'FAIL'} {name}")
        for problem in problems:
            print(f"    {problem}")

    print(f"spark: {len({u for u, _ in expected})} users, {len(expected)} rows in {direct_csv}")

    clean, clean_output = run_job(workdir, "clean", binary, model, interactions, "local[2]")
    problems = [] if clean.returncode == 0 else [f"the job failed:\n{clean.stdout[-3000:]}"]
    check("local[2] output equals lightfm recommend --exclude", problems or compare(
        expected, clean_output))

    faulty, faulty_output = run_job(
        workdir, "retried", binary, model, interactions, "local[2,4]",
        extra_env={"LIGHTFM_SPARK_FAIL_PARTITION": "1"})
    problems = [] if faulty.returncode == 0 else [f"the job failed:\n{faulty.stdout[-3000:]}"]
    if not problems and "was killed by signal 9 on partition 1 (attempt 0)" not in faulty.stdout:
        problems.append("the injected failure of partition 1 does not appear in Spark's log")
    if not problems and clean.returncode == 0:
        clean_rows = read_parquet(clean_output)[0]
        retried_rows = read_parquet(faulty_output)[0]
        if clean_rows != retried_rows:
            problems.append("the retried run's rows differ from the clean run's")
        problems += compare(expected, faulty_output)
    check("local[2,4], partition 1 killed on its first attempt: identical output", problems)

    bad_interactions = os.path.join(workdir, "with-unknown-user.tsv")
    with open(interactions) as source, open(bad_interactions, "w") as target:
        target.write(source.read())
        target.write("no-such-user\t1\t5\t881250949\n")
    bad, bad_output = run_job(workdir, "malformed", binary, model, bad_interactions, "local[2]")
    problems = []
    if bad.returncode == 0:
        problems.append("the job succeeded")
    if os.path.exists(os.path.join(bad_output, "_SUCCESS")):
        problems.append("the failed job committed its output")
    wanted = ["lightfm recommend --stream exited with 1", "<stdin>:",
              "unknown user id 'no-such-user'", "in line 'no-such-user\\t1'"]
    for text in wanted:
        if text not in bad.stdout:
            problems.append(f"Spark's error does not show {text!r}")
    check("a bad stream line fails the job with our message", problems)

    passed = sum(results)
    print(f"spark: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
