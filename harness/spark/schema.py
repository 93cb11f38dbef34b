"""Spark's schema as Arrow's: the condition tree takes its types from an Arrow schema."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["arrow_schema"]


def arrow_schema(struct: Any) -> pa.Schema:
    """The Arrow schema of a Spark ``StructType`` (a DataFrame's ``schema``)."""
    return pa.schema([pa.field(f.name, _arrow_type(f.dataType)) for f in struct.fields])


def _arrow_type(dtype: Any) -> pa.DataType:
    from pyspark.sql import types as t

    if isinstance(dtype, t.StructType):
        return pa.struct([pa.field(f.name, _arrow_type(f.dataType)) for f in dtype.fields])
    if isinstance(dtype, t.ArrayType):
        return pa.list_(_arrow_type(dtype.elementType))
    if isinstance(dtype, t.DecimalType):
        return pa.decimal128(dtype.precision, dtype.scale)
    simple: list[tuple[type, pa.DataType]] = [
        (t.StringType, pa.string()),
        (t.BooleanType, pa.bool_()),
        (t.ByteType, pa.int8()),
        (t.ShortType, pa.int16()),
        (t.IntegerType, pa.int32()),
        (t.LongType, pa.int64()),
        (t.FloatType, pa.float32()),
        (t.DoubleType, pa.float64()),
        (t.TimestampType, pa.timestamp("us", tz="UTC")),
        (t.TimestampNTZType, pa.timestamp("us")),
        (t.DateType, pa.date32()),
    ]
    for spark_type, arrow_type in simple:
        if isinstance(dtype, spark_type):
            return arrow_type
    # Maps, binary, intervals...: types the condition tree never compares with a constant.
    return pa.binary()
