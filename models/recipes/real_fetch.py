"""Fetching the real-recording packages: `apt-get download` into OUT/packages/deb/, `dpkg -x` into
OUT/packages/<package>/ (nothing is installed), and the audio inside game archives (.pk3, .wz: zip files) unpacked
to OUT/packages/<package>/_unpacked/<archive>/. Each step is skipped when its result exists."""

import glob
import os
import shutil
import subprocess
import zipfile

from common import RecipeError, run
from real_table import ARCHIVES, AUDIO, is_reserved


def deb_of(debdir, package):
    found = sorted(glob.glob(os.path.join(debdir, package + "_*.deb")))
    return found[-1] if found else None


def apt_lists_present():
    return bool(glob.glob("/var/lib/apt/lists/*_Packages*"))


def download(package, debdir):
    """The .deb of package in debdir, downloaded when missing (apt-get download: no root, nothing installed)."""
    if is_reserved(package):
        raise RecipeError("package %s is reserved: the project must never use it" % package)
    have = deb_of(debdir, package)
    if have:
        return have
    os.makedirs(debdir, exist_ok=True)
    if not apt_lists_present():
        # a fresh machine: fetch the lists once (needs root; a clear error otherwise)
        print("  no apt package lists: running apt-get update", flush=True)
        p = subprocess.run(["apt-get", "update"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0 or not apt_lists_present():
            raise RecipeError("no apt package lists, and apt-get update failed (run it as root): %s"
                              % p.stderr.decode("utf-8", "replace").strip()[-400:])
    try:
        p = subprocess.run(["apt-get", "download", package], cwd=debdir, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RecipeError("apt-get download %s: %s" % (package, e))
    have = deb_of(debdir, package)
    if p.returncode != 0 or not have:
        raise RecipeError("apt-get download %s failed (exit %d): %s" % (
            package, p.returncode, p.stderr.decode("utf-8", "replace").strip()[-400:]))
    return have


def version(deb):
    return run(["dpkg-deb", "-f", deb, "Version"], "dpkg-deb -f %s" % deb).decode().strip()


def unpack(deb, dest):
    """dpkg -x deb into dest (once: a finished tree carries a .done marker), then the audio in its archives."""
    marker = os.path.join(dest, ".done")
    if os.path.exists(marker):
        return dest
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    tmp = dest + ".partial"
    if os.path.isdir(tmp):
        shutil.rmtree(tmp)
    run(["dpkg", "-x", deb, tmp], "dpkg -x %s" % deb, timeout=1800)
    unpack_archives(tmp)
    os.replace(tmp, dest)
    with open(marker, "w") as f:
        f.write(os.path.basename(deb) + "\n")
    return dest


def unpack_archives(root):
    """Audio members of the zip archives games keep their data in -> root/_unpacked/<archive name>/<member>."""
    for d, dirs, files in os.walk(root):
        dirs.sort()
        if "_unpacked" in d.split(os.sep):
            continue
        for f in sorted(files):
            if not f.lower().endswith(ARCHIVES):
                continue
            path = os.path.join(d, f)
            try:
                z = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                continue
            with z:
                for info in z.infolist():
                    name = info.filename
                    if info.is_dir() or not name.lower().endswith(AUDIO):
                        continue
                    if name.startswith("/") or ".." in name.split("/"):
                        raise RecipeError("%s: member %s escapes the archive" % (path, name))
                    out = os.path.join(root, "_unpacked", f, name)
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    with z.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)


def fetch(package, pkgdir):
    """(unpacked tree, version) of package under pkgdir (OUT/packages)."""
    deb = download(package, os.path.join(pkgdir, "deb"))
    return unpack(deb, os.path.join(pkgdir, package)), version(deb)


def copyright_path(root, package):
    return os.path.join(root, "usr", "share", "doc", package, "copyright")
