"""The table of real-recording packages (real_packages.tsv): reading it, refusing what must not be used, and
matching a package's files to its rows. Pure Python: nothing here downloads or decodes."""

import fnmatch
import hashlib
import os
import re

from common import RecipeError

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_packages.tsv")
ROLES = ("speech", "music", "noise")
SPLITS = ("train", "test")
COLUMNS = ["package", "role", "split", "group", "licence", "files", "notes"]
AUDIO = (".wav", ".ogg", ".opus", ".flac", ".mp3", ".gsm")
ARCHIVES = (".pk3", ".wz")

# SHA-256 of the names of the packages the project must never use (their names are not written in code).
RESERVED_SHA256 = frozenset([
    "d2bab5c0f956c88fcac146c1e502a3046696a447756a619f0a6524501cf836e8",
    "70acd12922f3d98f84189ab98968666b3e299a0245e92f76b2b396e46de93682",
    "9282dc3b57bd0a08d6392f941069cc55ec0b205dd49daa3af344df7efc6ed50c",
    "c3e2f48f14b414c009915237db2507d4efe62251243fe0b0413a4c8feef6b151",
    "6389ae98e719538837cf4f9ea91f09aa7bb5ba43e4fc8f085ec856e7e714e390",
    "fac5af4df75e9e10b00a656429e15fa469d2b482e733b5e4f399052a65dbfda4",
    "55b391b786d17d19b2d37dcc8569c3b7341a5038e04d7f5435071ba73dd2e478",
    "ccc1f6aefde78c0dda02543389149d26f22ad7c59721972e4177131505bf717d",
    "fc09eebf85e833bf7f0411d4cfc935a8ccb8d07e01adbe5b1a015bb228cf294a",
    "203435f08803ae6f1d7ca6fbb07e3fecf7b972352ab675fc58cacad292be918c",
])


def name_digest(name):
    return hashlib.sha256(name.strip().encode()).hexdigest()


def is_reserved(package, reserved=None):
    return name_digest(package) in (RESERVED_SHA256 if reserved is None else reserved)


class Row:
    def __init__(self, fields, where):
        for k, v in zip(COLUMNS, fields):
            setattr(self, k, v)
        self.where = where
        self.include = [g for g in self.files.split() if not g.startswith("!")]
        self.exclude = [g[1:] for g in self.files.split() if g.startswith("!")]
        self.group_re = re.compile(self.group[3:]) if self.group.startswith("re:") else None

    def matches(self, rel):
        return (any(fnmatch.fnmatchcase(rel, g) for g in self.include)
                and not any(fnmatch.fnmatchcase(rel, g) for g in self.exclude))

    def group_of(self, rel):
        """The group of a file: its speaker or composer where the table says how to find it, else the package."""
        if self.group_re is not None:
            m = self.group_re.search(rel)
            return m.group(1) if m else self.package
        return self.package if self.group == "-" else self.group


def parse(text, where=TABLE, reserved=None):
    """Table text -> list of Row; raises RecipeError naming the line for anything wrong or forbidden."""
    rows, header = [], None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\n").split("\t")
        at = "%s:%d" % (where, n)
        if header is None:
            if fields != COLUMNS:
                raise RecipeError("%s: the header must be the columns %s" % (at, " ".join(COLUMNS)))
            header = fields
            continue
        if len(fields) != len(COLUMNS):
            raise RecipeError("%s: %d tab-separated fields, expected %d" % (at, len(fields), len(COLUMNS)))
        row = Row(fields, at)
        if is_reserved(row.package, reserved):
            raise RecipeError("%s: package %s is reserved: the project must never use it" % (at, row.package))
        if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", row.package):
            raise RecipeError("%s: %r is not a Debian package name" % (at, row.package))
        if row.role not in ROLES:
            raise RecipeError("%s: role %r is not one of %s" % (at, row.role, ", ".join(ROLES)))
        if row.split not in SPLITS:
            raise RecipeError("%s: split %r is not one of %s" % (at, row.split, ", ".join(SPLITS)))
        if not row.include:
            raise RecipeError("%s: no file pattern" % at)
        if row.group_re is not None and row.group_re.groups < 1:
            raise RecipeError("%s: the group pattern needs a capture group" % at)
        rows.append(row)
    if header is None:
        raise RecipeError("%s: no header line" % where)
    check_split(rows)
    return rows


def read(path=TABLE, reserved=None):
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), path, reserved)


def check_split(rows):
    """A package has one split for all its rows; a literal group (a person heard in several packages) too."""
    split_of = {}
    for r in rows:
        for key in ["package:" + r.package] + ([] if r.group in ("-",) or r.group_re else ["group:" + r.group]):
            if split_of.setdefault(key, (r.split, r.where))[0] != r.split:
                raise RecipeError("%s: %s is %s here but %s at %s: a test package or group is never trained on"
                                  % (r.where, key, r.split, split_of[key][0], split_of[key][1]))


def check_groups(items):
    """items: (group, split, what) per file. Raises when one group has files on both sides (a speaker found in a
    train package and a test package through a group pattern)."""
    seen = {}
    for group, split, what in items:
        first = seen.setdefault(group, (split, what))
        if first[0] != split:
            raise RecipeError("group %s has %s in %s and %s in %s: one speaker or composer on both sides"
                              % (group, first[1], first[0], what, split))


def packages(rows):
    out = []
    for r in rows:
        if r.package not in out:
            out.append(r.package)
    return out


def match_files(rows, package, root):
    """[(row, rel path)] for every audio file under root (the unpacked package) that a row of the package
    takes, sorted; a file two rows of one package both take is refused (its role would be ambiguous)."""
    mine = [r for r in rows if r.package == package]
    found = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            if not f.lower().endswith(AUDIO):
                continue
            rel = os.path.relpath(os.path.join(d, f), root)
            hits = [r for r in mine if r.matches(rel)]
            if len(hits) > 1:
                raise RecipeError("%s: %s matches rows %s: give each file one role"
                                  % (package, rel, ", ".join(h.where for h in hits)))
            if hits:
                found.append((hits[0], rel))
    found.sort(key=lambda x: x[1])
    return found
