"""One SparkSession for the whole test run (its JVM starts once), in a JVM whose zone is not UTC.

The driver JVM runs with -Duser.timezone=America/New_York: the suite must not
depend on it (the session time zone is forced to UTC). Tests using Spark
import `spark` from here; without pyspark or java they are skipped.
"""

from __future__ import annotations

import shutil

import pytest

JVM_ZONE = "America/New_York"


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs java (make test installs openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    from audit_lib.engines.spark import SESSION_CONF

    builder = SparkSession.builder.master("local[2]").appName("privacy-audit-tests")
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    builder = builder.config("spark.driver.extraJavaOptions", f"-Duser.timezone={JVM_ZONE}")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
