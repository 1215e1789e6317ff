"""A small reader for Asterisk .conf text, enough to check rendered configuration in tests and tools.

Sections keep their order and may repeat a name (PJSIP uses one name for an endpoint and its aor), so a file
is a list of ``Section``; options keep repeats too (``allow``, ``exten``, ``noload``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"^\[([^\]]+)\](\([^)]*\))?\s*$")
_OPTION = re.compile(r"^([A-Za-z0-9_.-]+)\s*=>?\s*(.*)$")


@dataclass
class Section:
    name: str
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.options:
            if k == key:
                return v
        return default

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.options if k == key]


def strip_comment(line: str) -> str:
    """Drop a ``;`` comment (``\\;`` is a literal semicolon) and surrounding blanks."""
    out = []
    i = 0
    while i < len(line):
        if line[i] == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if line[i] == ";":
            break
        out.append(line[i])
        i += 1
    return "".join(out).strip()


def parse(text: str) -> list[Section]:
    sections: list[Section] = []
    for raw in text.splitlines():
        line = strip_comment(raw)
        if not line:
            continue
        m = _SECTION.match(line)
        if m:
            sections.append(Section(m.group(1).strip()))
            continue
        m = _OPTION.match(line)
        if not m:
            raise ValueError(f"unparsable line: {raw!r}")
        if not sections:
            raise ValueError(f"option outside a section: {raw!r}")
        sections[-1].options.append((m.group(1), m.group(2).strip()))
    return sections


def by_type(sections: list[Section], kind: str) -> dict[str, Section]:
    """PJSIP objects of one ``type`` by name."""
    return {s.name: s for s in sections if s.get("type") == kind}


def one(sections: list[Section], name: str) -> Section:
    found = [s for s in sections if s.name == name]
    if len(found) != 1:
        raise KeyError(f"{len(found)} sections named [{name}]")
    return found[0]


@dataclass(frozen=True)
class Step:
    exten: str
    priority: str
    label: str
    app: str
    args: str


_APP = re.compile(r"^([A-Za-z0-9_]+)\((.*)\)$|^([A-Za-z0-9_]+)$")


def dialplan(text: str) -> dict[str, list[Step]]:
    """extensions.conf contexts -> their steps (``exten``/``same`` lines) in order."""
    contexts: dict[str, list[Step]] = {}
    for section in parse(text):
        if section.name in ("general", "globals"):
            continue
        steps: list[Step] = []
        exten = ""
        for key, value in section.options:
            if key == "exten":
                exten, priority, rest = (part.strip() for part in value.split(",", 2))
            elif key == "same":
                priority, rest = (part.strip() for part in value.split(",", 1))
            else:
                raise ValueError(f"[{section.name}] unexpected {key}")
            label = ""
            m = re.match(r"^([^()]*)\(([^)]*)\)$", priority)
            if m:
                priority, label = m.group(1), m.group(2)
            app = _APP.match(rest)
            if not app:
                raise ValueError(f"[{section.name}] cannot read {rest!r}")
            steps.append(Step(exten, priority, label, app.group(1) or app.group(3), app.group(2) or ""))
        contexts[section.name] = steps
    return contexts
