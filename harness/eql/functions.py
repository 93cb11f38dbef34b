"""The 16 EQL functions: their signatures, and what they compute when run as scripts.

Semantics follow Elasticsearch's function processors (x-pack/plugin/eql ... /scalar):
a null required argument gives null; strings are indexed in UTF-16 code units; the
``~`` variants lower-case both sides with Java's ``toLowerCase(Locale.ROOT)``.
Where the published function reference disagrees with the code, the code wins and a
conformance case pins it: ``concat`` with a null argument is null (not skipped), and
``indexOf(x, y, null)`` starts at 0.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from harness.eql.ast import Arithmetic, Expr, FunctionCall, Literal, Negate
from harness.eql.fields import Scalar
from harness.eql.java import JavaError, arithmetic, from_units, parse_number, to_java_string, to_units
from harness.eql.mapping import to_ip

__all__ = [
    "ARITHMETIC_FUNCTIONS",
    "FUNCTIONS",
    "Signature",
    "arithmetic_value",
    "call",
    "cidr_contains",
    "java_int",
    "parse_cidr",
]

Value = Scalar | None


@dataclass(frozen=True)
class Signature:
    """``args`` names each parameter's type: string, number, integer, boolean, ip or any.

    The last entry repeats when ``variadic``; ``required`` is the minimum count.
    """

    name: str
    args: tuple[str, ...]
    required: int
    returns: str
    insensitive: bool = False
    variadic: bool = False

    def accepts_count(self, count: int) -> bool:
        if self.variadic:
            return count >= self.required
        return self.required <= count <= len(self.args)

    def arg_type(self, index: int) -> str:
        return self.args[min(index, len(self.args) - 1)]

    def expected_count(self) -> str:
        if self.variadic:
            return f"at least {self.required}"
        if self.required == len(self.args):
            return f"exactly {self.required}"
        return f"{self.required} to {len(self.args)}"


_SIGNATURES = [
    Signature("add", ("number", "number"), 2, "number"),
    Signature("between", ("string", "string", "string", "boolean"), 3, "string", insensitive=True),
    Signature("cidrMatch", ("ip", "string"), 2, "boolean", variadic=True),
    Signature("concat", ("any",), 1, "string", variadic=True),
    Signature("divide", ("number", "number"), 2, "number"),
    Signature("endsWith", ("string", "string"), 2, "boolean", insensitive=True),
    Signature("indexOf", ("string", "string", "integer"), 2, "integer", insensitive=True),
    Signature("length", ("string",), 1, "integer"),
    Signature("modulo", ("number", "number"), 2, "number"),
    Signature("multiply", ("number", "number"), 2, "number"),
    Signature("number", ("string", "integer"), 1, "number"),
    Signature("startsWith", ("string", "string"), 2, "boolean", insensitive=True),
    Signature("string", ("any",), 1, "string"),
    Signature("stringContains", ("string", "string"), 2, "boolean", insensitive=True),
    Signature("substring", ("string", "integer", "integer"), 2, "string"),
    Signature("subtract", ("number", "number"), 2, "number"),
]

# Elasticsearch's function registry resolves names case-insensitively.
FUNCTIONS: dict[str, Signature] = {sig.name.lower(): sig for sig in _SIGNATURES}
# The function forms of the arithmetic operators: the same ql classes (Add, Sub, ...), typed alike.
ARITHMETIC_FUNCTIONS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "modulo": "%"}


def call(name: str, args: list[Value], insensitive: bool) -> Value:
    """Run function ``name`` (canonical spelling) on already evaluated arguments."""
    return _IMPLEMENTATIONS[name](args, insensitive)


def _lower(text: str, insensitive: bool) -> str:
    return text.lower() if insensitive else text


def _arith(op: str) -> Callable[[list[Value], bool], Value]:
    def run(args: list[Value], _: bool) -> Value:
        return arithmetic_value(op, args[0], args[1])

    return run


def arithmetic_value(op: str, left: Value, right: Value, *, int32: bool = False) -> Value:
    """``left op right`` as a script computes it: null if either is null, Java's numbers otherwise."""
    if left is None or right is None:
        return None
    if not _is_number(left) or not _is_number(right):
        raise JavaError(f"A number is required; received [{left}] and [{right}]")
    assert isinstance(left, (int, float)) and isinstance(right, (int, float))
    return arithmetic(op, left, right, int32=int32)


def java_int(node: Expr) -> bool:
    """Whether Elasticsearch computes ``node`` as a Java ``int`` rather than a ``long``.

    An integer literal that fits an int is an ``Integer`` (``ExpressionBuilder.visitIntegerLiteral``),
    ``length`` and ``indexOf`` return ``INTEGER``, and ``Arithmetics`` keeps two ints an int.
    Field values never are: doc values of every integer type are read as ``Long``.
    """
    match node:
        case Literal(value=value):
            # -2147483648 is written as -(2147483648), the negation of a long.
            return isinstance(value, int) and not isinstance(value, bool) and -(2**31) < value < 2**31
        case FunctionCall(name=name, args=args):
            signature = FUNCTIONS.get(name.lower())
            if signature is None:
                return False
            if signature.name in ("length", "indexOf"):
                return True
            return signature.name in ARITHMETIC_FUNCTIONS and all(java_int(arg) for arg in args)
        case Arithmetic(left=left, right=right):
            return java_int(left) and java_int(right)
        case Negate(operand=operand):
            return java_int(operand)
    return False


def _is_number(value: Value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strings(args: list[Value], count: int) -> list[str] | None:
    """The first ``count`` arguments as strings, or None when one of them is null."""
    out = []
    for value in args[:count]:
        if value is None:
            return None
        if not isinstance(value, str):
            raise JavaError(f"a string is required; received [{to_java_string(value)}]")
        out.append(value)
    return out


def _between(args: list[Value], insensitive: bool) -> Value:
    strings = _strings(args, 3)
    if strings is None:
        return None
    source, left, right = strings
    greedy = bool(args[3]) if len(args) > 3 and args[3] is not None else False
    if not source or not left or not right:
        return source
    match = to_units(_lower(source, insensitive))
    left_u, right_u = to_units(_lower(left, insensitive)), to_units(_lower(right, insensitive))
    index = match.find(left_u)
    if index < 0:
        return ""
    start = index + len(left_u)
    end = match.rfind(right_u) if greedy else match.find(right_u, start)
    if end < 0:
        return ""
    units = to_units(source)
    if end < start or end > len(units):
        raise JavaError(f"begin {start}, end {end}, length {len(units)}")  # StringIndexOutOfBounds
    return from_units(units[start:end])


def _cidr_match(args: list[Value], _: bool) -> Value:
    address: object = args[0]  # a mapped ip field hands the script an IPv6Address, not a Scalar
    if address is None:
        return None
    # An ip-mapped field's value is already an address; a string (no mapping) is parsed.
    ip = address if isinstance(address, ipaddress.IPv6Address) else to_ip(address)
    if ip is None:
        return False
    return any(cidr_contains(parse_cidr(str(c)), ip) for c in args[1:] if c is not None)


def parse_cidr(text: str) -> ipaddress.IPv6Network:
    """A CIDR block (or one address) in the IPv4-mapped form Elasticsearch compares in."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    if isinstance(network, ipaddress.IPv4Network):
        mapped = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + network.network_address.packed)
        return ipaddress.IPv6Network((mapped, 96 + network.prefixlen))
    return network


def cidr_contains(network: ipaddress.IPv6Network, address: ipaddress.IPv6Address) -> bool:
    return address in network


def _concat(args: list[Value], _: bool) -> Value:
    if any(value is None for value in args):
        return None
    return "".join(to_java_string(value) for value in args if value is not None)


def _ends_with(args: list[Value], insensitive: bool) -> Value:
    strings = _strings(args, 2)
    if strings is None:
        return None
    return _lower(strings[0], insensitive).endswith(_lower(strings[1], insensitive))


def _starts_with(args: list[Value], insensitive: bool) -> Value:
    strings = _strings(args, 2)
    if strings is None:
        return None
    return _lower(strings[0], insensitive).startswith(_lower(strings[1], insensitive))


def _string_contains(args: list[Value], insensitive: bool) -> Value:
    strings = _strings(args, 2)
    if strings is None:
        return None
    source, sub = strings
    if not source or not sub:  # StringContainsFunctionProcessor: hasLength(...) == false -> false
        return False
    return _lower(sub, insensitive) in _lower(source, insensitive)


def _index_of(args: list[Value], insensitive: bool) -> Value:
    strings = _strings(args, 2)
    if strings is None:
        return None
    start_arg = args[2] if len(args) > 2 else None
    if start_arg is not None and not _is_number(start_arg):
        raise JavaError(f"a number is required; received [{start_arg}]")
    start = 0 if start_arg is None else int(start_arg)
    source = to_units(_lower(strings[0], insensitive))
    sub = to_units(_lower(strings[1], insensitive))
    start = max(start, 0)
    if start > len(source):
        return len(source) if sub == "" else None
    found = source.find(sub, start)
    return None if found < 0 else found


def _length(args: list[Value], _: bool) -> Value:
    strings = _strings(args, 1)
    return None if strings is None else len(to_units(strings[0]))


def _number(args: list[Value], _: bool) -> Value:
    strings = _strings(args, 1)
    if strings is None:
        return None
    base = args[1] if len(args) > 1 else None
    if base is not None and (not isinstance(base, int) or isinstance(base, bool)):
        raise JavaError(f"an integer base is required; received [{base}]")
    return parse_number(strings[0], base)


def _string(args: list[Value], _: bool) -> Value:
    value = args[0]
    return None if value is None else to_java_string(value)


def _substring(args: list[Value], _: bool) -> Value:
    strings = _strings(args, 1)
    if strings is None:
        return None
    start, end = args[1], args[2] if len(args) > 2 else None
    if start is None:
        return strings[0]
    for bound in (start, end):
        if bound is not None and not _is_number(bound):
            raise JavaError(f"a number is required; received [{bound}]")
    units = to_units(strings[0])
    # Python slice semantics, exactly as StringUtils.substringSlice documents.
    return from_units(units[int(start) : None if end is None else int(end)])


_IMPLEMENTATIONS: dict[str, Callable[[list[Value], bool], Value]] = {
    "add": _arith("+"),
    "between": _between,
    "cidrMatch": _cidr_match,
    "concat": _concat,
    "divide": _arith("/"),
    "endsWith": _ends_with,
    "indexOf": _index_of,
    "length": _length,
    "modulo": _arith("%"),
    "multiply": _arith("*"),
    "number": _number,
    "startsWith": _starts_with,
    "string": _string,
    "stringContains": _string_contains,
    "substring": _substring,
    "subtract": _arith("-"),
}
