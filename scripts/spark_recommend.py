"""Whole-catalog recommendations on Apache Spark, each task scoring a shard of users with
`lightfm recommend --stream`.

The job reads the interactions (delimited text as `lightfm fit` reads it, or Parquet), groups
each user's items, hash-partitions the users into --partitions shards and pipes every shard
through the `lightfm` binary as lines `user<TAB>item item ...` (the items are excluded from
that user's list). The binary's `user,rank,item,score` lines come back as Arrow batches and
Spark writes them as Parquet through its own output committer: a task that fails (a bad line,
a crashed binary) is retried whole, and a half-scored shard is never committed.

The binary and the model are shipped to the executors with `SparkContext.addFile`, so that an
executor needs only OpenBLAS (build the binary with `--static-swift-stdlib`).

Run it locally through `scripts/spark-recommend` (which prepares the Spark environment), or on a
cluster with `spark-submit ... scripts/spark_recommend.py --master ''` (see README, "Scaling
out").

Test hook: LIGHTFM_SPARK_FAIL_PARTITION=N (in the driver's environment) makes the task of
partition N kill its `lightfm` process on its first attempt, after the first batch of output
when the shard has more than one batch (so some rows were already handed to Spark), to check
that Spark's retry gives the same output.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

# Header detection, as `lightfm fit` does it (DelimitedText.looksLikeInteractionHeader).
USER_COLUMNS = {"user", "userid", "users", "uid", "customer", "customerid", "visitorid"}
ITEM_COLUMNS = {
    "item", "itemid", "items", "iid", "movie", "movieid", "product", "productid", "track",
    "trackid", "artist", "artistid", "book", "bookid", "isbn",
}
# Ties go to the earlier one, as in `lightfm fit`.
DELIMITERS = ["::", "\t", "|", ","]
STDERR_KEPT = 1 << 16
# The rows of `lightfm recommend --stream` as the scoring tasks return them to Spark.
OUTPUT_SCHEMA = "user string, rank int, item string, score float"


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="spark-recommend",
        description="Top items for every user of an interactions file (or --users), scored on "
        "Spark by `lightfm recommend --stream`, written as Parquet (user, rank, item, score). "
        "A user's own interactions are excluded from its list, as `lightfm recommend --exclude` "
        "does.",
    )
    parser.add_argument(
        "--model", required=True, help="the .lfm model file (shipped to executors)")
    parser.add_argument(
        "--interactions", required=True,
        help="interactions: delimited text as `lightfm fit --train` reads it (user, item, "
        "optional rating and timestamp; tab, comma, '|' or '::'; optional header), or Parquet "
        "(a path ending in .parquet, or a folder of Parquet files) with user and item columns")
    parser.add_argument(
        "--output", required=True, help="the Parquet folder to write (it must not exist yet, "
        "unless --overwrite)")
    parser.add_argument("--top", type=int, default=10, help="items per user (default 10)")
    parser.add_argument(
        "--partitions", type=int, default=None,
        help="shards of users, one task and one `lightfm` process each (default: Spark's "
        "default parallelism)")
    parser.add_argument(
        "--master", default="local[*]",
        help="Spark master (default local[*]); an empty string leaves it to spark-submit")
    parser.add_argument(
        "--users", default=None,
        help="score only these users: a text file of one id per line (empty lines and lines "
        "starting with # skipped); a user without interactions is scored with nothing excluded")
    parser.add_argument(
        "--binary", default=None,
        help="the lightfm executable to ship (default: $LIGHTFM_BINARY, else "
        ".build/release/lightfm of this checkout)")
    parser.add_argument(
        "--threads-per-task", type=int, default=None,
        help="scoring threads of each `lightfm` process (default: spark.task.cpus, 1)")
    parser.add_argument(
        "--batch-size", type=int, default=2048,
        help="users each `lightfm` process scores at a time (default 2048)")
    parser.add_argument(
        "--input-format", choices=["auto", "text", "parquet"], default="auto",
        help="how --interactions is read (default auto: Parquet for a path ending in .parquet "
        "or a local folder of .parquet files, delimited text otherwise)")
    parser.add_argument("--user-column", default=None, help="Parquet input: the user column")
    parser.add_argument("--item-column", default=None, help="Parquet input: the item column")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output if it exists")
    parser.add_argument(
        "--report-timing", action="store_true",
        help="prepare the shards first (cached) and warm the JVM up on 20,000 users, "
        "then time the scoring and writing alone and print it to standard error (for "
        "measurements)")
    arguments = parser.parse_args(argv)
    if arguments.top < 1:
        parser.error("--top must be at least 1")
    if arguments.partitions is not None and arguments.partitions < 1:
        parser.error("--partitions must be at least 1")
    if arguments.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if arguments.threads_per_task is not None and arguments.threads_per_task < 1:
        parser.error("--threads-per-task must be at least 1")
    return arguments


def default_binary():
    if os.environ.get("LIGHTFM_BINARY"):
        return os.environ["LIGHTFM_BINARY"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, ".build", "release", "lightfm")


def normalized(name):
    return "".join(c for c in name.lower() if c not in "_- ")


def detect_text_layout(lines):
    """The delimiter and whether the first line is a header, from the file's first lines."""
    lines = [line for line in lines if line.strip() and not line.startswith("#")][:50]
    if not lines:
        raise SystemExit("spark-recommend: the interactions file has no data lines")
    delimiter, best = "\t", 0
    for candidate in DELIMITERS:
        count = sum(1 for line in lines if candidate in line)
        if count > best:
            delimiter, best = candidate, count
    fields = [field.strip().strip('"') for field in lines[0].split(delimiter)]
    if len(fields) < 2:
        raise SystemExit(
            f"spark-recommend: the first line of the interactions has {len(fields)} field: "
            "expected user<sep>item[<sep>rating][<sep>timestamp]")
    header = False
    if len(fields) >= 3:
        try:
            float(fields[2])
        except ValueError:
            header = True
    if normalized(fields[0]) in USER_COLUMNS and normalized(fields[1]) in ITEM_COLUMNS:
        header = True
    return delimiter, header


def read_interactions(spark, arguments):
    """A DataFrame of (user, item) strings."""
    from pyspark.sql import functions as F

    path = arguments.interactions
    is_parquet = arguments.input_format == "parquet" or arguments.input_format == "auto" and (
        path.rstrip("/").endswith(".parquet") or (
            os.path.isdir(path)
            and any(name.endswith(".parquet") for name in os.listdir(path))))
    if is_parquet:
        frame = spark.read.parquet(path)
        columns = frame.columns
        user = arguments.user_column or next(
            (c for c in columns if normalized(c) in USER_COLUMNS), columns[0])
        item = arguments.item_column or next(
            (c for c in columns if normalized(c) in ITEM_COLUMNS), columns[1])
        return frame.select(
            F.col(user).cast("string").alias("user"), F.col(item).cast("string").alias("item"))
    head = [row.value for row in spark.read.text(path).limit(100).collect()]
    delimiter, header = detect_text_layout(head)
    frame = spark.read.csv(
        path, sep=delimiter, header=header, quote='"', escape='"', comment="#",
        ignoreLeadingWhiteSpace=True, ignoreTrailingWhiteSpace=True, mode="FAILFAST",
        inferSchema=False)
    first, second = frame.columns[0], frame.columns[1]
    return frame.select(F.col(first).alias("user"), F.col(second).alias("item"))


def read_users(spark, path):
    from pyspark.sql import functions as F

    lines = spark.read.text(path).select(F.trim(F.col("value")).alias("user"))
    return lines.where((F.col("user") != "") & ~F.col("user").startswith("#")).distinct()


def checked_id(column, what):
    """The id column, failing the task when an id cannot travel in a stream line."""
    from pyspark.sql import functions as F

    bad = "[\\t\\n\\r ]" if what == "item" else "[\\t\\n\\r]"
    return F.when(
        column.rlike(bad),
        F.raise_error(F.concat(
            F.lit(f"spark-recommend: the {what} id '"), column,
            F.lit("' holds whitespace that the stream format uses as a separator"))),
    ).otherwise(column)


def shard_lines(spark, arguments):
    """One row per user to score: `line` = user<TAB>item item ...<NEWLINE>, hash-partitioned."""
    from pyspark.sql import functions as F

    interactions = read_interactions(spark, arguments).where(
        F.col("user").isNotNull() & F.col("item").isNotNull())
    grouped = interactions.groupBy("user").agg(F.collect_list("item").alias("items"))
    if arguments.users:
        wanted = read_users(spark, arguments.users)
        grouped = wanted.join(grouped, on="user", how="left")
    partitions = arguments.partitions or spark.sparkContext.defaultParallelism
    items = F.transform(F.coalesce(F.col("items"), F.array()), lambda i: checked_id(i, "item"))
    return grouped.repartition(partitions, "user").select(
        F.concat(
            checked_id(F.col("user"), "user"), F.lit("\t"), F.concat_ws(" ", items),
            F.lit("\n"),
        ).alias("line"))


def stream_command(arguments, binary, model, threads):
    return [
        binary, "recommend", "--stream", "--model", model, "--top", str(arguments.top),
        "--batch-size", str(arguments.batch_size), "--threads", str(threads),
    ]


def make_scorer(arguments, binary_name, model_name, threads, fail_partition, cpu=None):
    """The function each task runs on its Arrow batches of lines; `cpu`, an accumulator of
    (Python, lightfm) CPU seconds, for --report-timing."""
    def score(batches):
        import pyarrow as pa
        import pyarrow.csv as pacsv
        from pyspark import SparkFiles, TaskContext

        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        context = TaskContext.get()
        if cpu is not None:
            import resource

            own = resource.getrusage(resource.RUSAGE_SELF)
        partition = context.partitionId()
        binary = SparkFiles.get(binary_name)
        if not os.access(binary, os.X_OK):
            os.chmod(binary, 0o755)
        command = stream_command(arguments, binary, SparkFiles.get(model_name), threads)
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        failures = []
        inject = fail_partition == partition and context.attemptNumber() == 0
        release = threading.Event()

        def feed():
            try:
                lines = write_lines(process.stdin, first)
                for batch in batches:
                    lines += write_lines(process.stdin, batch)
                if inject:
                    # Keep standard input open so that the process cannot finish before it is
                    # killed: after its first batch of output when it has more than one batch.
                    if lines > arguments.batch_size:
                        release.wait()
                    else:
                        process.kill()
            except BrokenPipeError:
                pass  # the process died; its status and standard error tell why
            except BaseException as error:  # reported by the task below
                failures.append(error)
                process.kill()
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass

        stderr = bytearray()

        def drain_stderr():
            for chunk in iter(lambda: process.stderr.read(8192), b""):
                stderr.extend(chunk)
                if len(stderr) > 2 * STDERR_KEPT:
                    del stderr[:-STDERR_KEPT]

        feeder = threading.Thread(target=feed, daemon=True)
        reader = threading.Thread(target=drain_stderr, daemon=True)
        feeder.start()
        reader.start()
        schema = pa.schema([
            ("user", pa.string()), ("rank", pa.int32()), ("item", pa.string()),
            ("score", pa.float32()),
        ])
        if inject:
            process.stdout.peek(1)  # the first batch of output, or nothing if killed already
            process.kill()
            release.set()
        completed = False
        read_error = None
        try:
            stdout = process.stdout
            if stdout.peek(1):
                csv = pacsv.open_csv(
                    stdout,
                    read_options=pacsv.ReadOptions(
                        column_names=schema.names, block_size=1 << 20),
                    convert_options=pacsv.ConvertOptions(
                        column_types={f.name: f.type for f in schema},
                        strings_can_be_null=False))
                try:
                    for batch in csv:
                        yield batch
                except pa.ArrowException as error:
                    read_error = error
            completed = True
        finally:
            if not completed:
                process.kill()
            if cpu is None:
                status = process.wait()
            else:
                _, code, usage = os.wait4(process.pid, 0)
                status = process.returncode = os.waitstatus_to_exitcode(code)
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu.add((
                    after.ru_utime + after.ru_stime - own.ru_utime - own.ru_stime,
                    usage.ru_utime + usage.ru_stime))
            feeder.join()
            reader.join()
        if failures:
            raise failures[0]
        if status != 0:
            how = f"was killed by signal {-status}" if status < 0 else f"exited with {status}"
            message = stderr.decode("utf-8", "replace").strip() or "(no message)"
            raise RuntimeError(
                f"lightfm recommend --stream {how} on partition {partition} "
                f"(attempt {context.attemptNumber()}): {message}")
        if read_error is not None:
            raise read_error

    return score


def write_lines(pipe, batch):
    """Writes the newline-ended lines of an Arrow batch without copying them one by one, and
    returns how many there were."""
    import pyarrow as pa

    column = batch.column(0)
    if column.null_count:
        raise RuntimeError("spark-recommend: a stream line is null")
    if len(column) == 0:
        return 0
    offsets_buffer, data = column.buffers()[1], column.buffers()[2]
    width = "q" if pa.types.is_large_string(column.type) else "i"
    offsets = memoryview(offsets_buffer).cast(width)
    start, end = offsets[column.offset], offsets[column.offset + len(column)]
    pipe.write(memoryview(data)[start:end])
    return len(column)


def warm_up(spark, lines, scorer, scratch):
    """Scores and writes 20,000 users to `scratch` (then deleted), so that the timed
    run finds the JVM's JIT compiled, as it is a few minutes into a real job."""
    sample = lines.limit(20000).repartition(2)
    sample.mapInArrow(scorer, OUTPUT_SCHEMA).write.mode("overwrite").parquet(scratch)
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(scratch)
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)


def jvm_cpu_seconds(spark):
    """CPU seconds of the driver's JVM so far (in local mode, the executors' too)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv):
    arguments = parse_arguments(argv)
    from pyspark.sql import SparkSession

    binary = os.path.abspath(arguments.binary or default_binary())
    if not os.access(binary, os.X_OK):
        raise SystemExit(
            f"spark-recommend: no lightfm executable at {binary}: build it with "
            "`swift build -c release --static-swift-stdlib` or pass --binary")
    model = os.path.abspath(arguments.model)
    if not os.path.isfile(model):
        raise SystemExit(f"spark-recommend: no model file at {model}")
    # The shipped names must differ from any other file the job adds.
    binary_name, model_name = "lightfm", os.path.basename(model)
    if model_name == binary_name:
        raise SystemExit("spark-recommend: rename the model: 'lightfm' is the binary's name")

    builder = SparkSession.builder.appName("lightfm recommend")
    if not sys.stderr.isatty():
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    if arguments.master:
        builder = builder.master(arguments.master)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("LIGHTFM_SPARK_LOG_LEVEL", "WARN"))
    spark.sparkContext.addFile(binary)
    spark.sparkContext.addFile(model)
    threads = arguments.threads_per_task or int(spark.conf.get("spark.task.cpus", "1"))
    fail = os.environ.get("LIGHTFM_SPARK_FAIL_PARTITION")
    cpu = None
    if arguments.report_timing:
        from pyspark.accumulators import AccumulatorParam

        class PairParam(AccumulatorParam):
            def zero(self, value):
                return (0.0, 0.0)

            def addInPlace(self, a, b):
                return (a[0] + b[0], a[1] + b[1])

        cpu = spark.sparkContext.accumulator((0.0, 0.0), PairParam())
    scorer = make_scorer(
        arguments, binary_name, model_name, threads, int(fail) if fail else None, cpu)

    lines = shard_lines(spark, arguments)
    recommendations = lines.mapInArrow(scorer, OUTPUT_SCHEMA)
    writer = recommendations.write.mode("overwrite" if arguments.overwrite else "errorifexists")
    if not arguments.report_timing:
        try:
            writer.parquet(arguments.output)
        except Exception as error:
            # Spark's error wraps ours in Java and Python traces: name the cause last.
            causes = [line for line in str(error).splitlines()
                      if line.startswith(("RuntimeError: ", "pyspark.errors"))]
            spark.stop()
            print(
                f"spark-recommend: the job failed: {causes[0] if causes else error}",
                file=sys.stderr)
            raise SystemExit(1)
    else:
        from pyspark import StorageLevel

        started = time.monotonic()
        users = lines.persist(StorageLevel.MEMORY_AND_DISK).count()
        prepared = time.monotonic() - started
        warm_up(spark, lines, scorer, arguments.output + ".warm-up")
        python_before, lightfm_before = cpu.value
        jvm_before = jvm_cpu_seconds(spark)
        started = time.monotonic()
        writer.parquet(arguments.output)
        seconds = time.monotonic() - started
        jvm = jvm_cpu_seconds(spark) - jvm_before
        python, lightfm = cpu.value[0] - python_before, cpu.value[1] - lightfm_before
        print(
            f"spark-recommend: prepared {users} users in {prepared:.2f} s; scored and "
            f"wrote them in {seconds:.2f} s ({users / seconds:.0f} users/s), "
            f"{jvm + python + lightfm:.2f} CPU s (JVM {jvm:.2f}, Python {python:.2f}, lightfm "
            f"{lightfm:.2f})",
            file=sys.stderr)
    spark.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
