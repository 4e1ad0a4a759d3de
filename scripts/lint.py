#!/usr/bin/env python3
"""The house rules that neither the compiler nor clang-tidy 14 checks (docs/running.md, "Tests").
Run by the format stage of `./bk test` on every C file:

  assign-in-condition  no assignment inside an if/while condition: assign on the line before
  errno-as-number      errno is never formatted as a number: copy it, print strerror_r's text
  thread-rc            pthread_create's result is kept (rc = pthread_create(...)): it is the error
                       number itself (pthread_create does not set errno), and the message shows it
  kafka-err-name       an rd_kafka_resp_err_t is never named rc (an int status): name it kerr

Usage: scripts/lint.py FILE...   (prints file:line: rule: text; exit status 1 on any finding)
Standard library only: it runs before the test venv exists."""

import re
import sys

ASSIGN = re.compile(r"(?<![=!<>])=(?!=)|<<=|>>=")
KEYWORD = re.compile(r"\b(if|while)\s*\(")
ERRNO_ARG = re.compile(r"[(,]\s*errno\s*[,)]")
THREAD = re.compile(r"\bpthread_create\s*\(")
THREAD_KEPT = re.compile(r"\b\w+\s*=\s*pthread_create\s*\($")
KAFKA_ERR = re.compile(r"\brd_kafka_resp_err_t\s+(\w+)\s*[=;,)]")
NON_ERRNO_CALLS = re.compile(r"\bstrerror(_r)?\s*\(\s*errno\b")


def blank(src):
    """The source with comments and the insides of string and character literals blanked out
    (newlines and columns kept), so that code-only patterns never match text."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(c + re.sub(r"[^\n]", " ", src[i + 1:j]) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def closing(code, start):
    """Index of the parenthesis that closes the one at start."""
    depth = 0
    for k in range(start, len(code)):
        if code[k] == "(":
            depth += 1
        elif code[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return len(code)


def statement(code, at):
    """The statement around position at: from after the previous ; { or } to the next ;."""
    start = max(code.rfind(";", 0, at), code.rfind("{", 0, at), code.rfind("}", 0, at)) + 1
    end = code.find(";", at)
    return start, len(code) if end < 0 else end


def check(path):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    code = blank(src)
    line_of = lambda pos: code.count("\n", 0, pos) + 1  # noqa: E731
    found = []

    for m in KEYWORD.finditer(code):
        if code[: m.start()].rstrip().endswith("#define"):
            continue
        open_at = m.end() - 1
        cond = code[open_at + 1 : closing(code, open_at)]
        if ASSIGN.search(cond):
            found.append((line_of(m.start()), "assign-in-condition", f"{m.group(1)} ({' '.join(cond.split())})"))

    for m in ERRNO_ARG.finditer(code):
        start, end = statement(code, m.start())
        stmt = code[start:end]
        if NON_ERRNO_CALLS.search(stmt) or not re.search(r"\w\s*\(", stmt):
            continue
        # errno as a call argument in a statement that formats text (a literal with a conversion).
        if re.search(r"%[-+ #0-9.]*[diux]", src[start:end]):
            found.append((line_of(m.start()), "errno-as-number", " ".join(src[start:end].split())))

    for m in THREAD.finditer(code):
        start, _ = statement(code, m.start())
        if not THREAD_KEPT.search(code[start : m.end()].strip()):
            found.append((line_of(m.start()), "thread-rc", "keep the result: rc = pthread_create(...)"))

    for m in KAFKA_ERR.finditer(code):
        if m.group(1) == "rc":
            found.append((line_of(m.start()), "kafka-err-name", f"rd_kafka_resp_err_t {m.group(1)}: name it kerr"))

    return [f"{path}:{line}: {rule}: {text}" for line, rule, text in sorted(found)]


def main(paths):
    findings = [f for p in paths for f in check(p)]
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
