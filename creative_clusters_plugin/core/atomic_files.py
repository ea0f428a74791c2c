"""Publishing a finished output: normal permissions, then an atomic rename onto the target.

Outputs are written to a hidden temporary file (or folder) beside the target and renamed into place at the
end, so a reader never sees half an output. ``tempfile.mkstemp``/``mkdtemp`` create private files (0600) and
folders (0700); a published output must have the permissions any other file the user creates gets (their
umask: 0644/0755 under the usual 022).
"""

from __future__ import annotations

import os


def current_umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def give_default_permissions(path) -> None:
    """chmod ``path`` to what a newly created file (0666) or folder (0777) gets under the umask."""
    base = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, base & ~current_umask())


def publish(temporary, target) -> None:
    """Give ``temporary`` default permissions and rename it onto ``target`` (same folder: atomic)."""
    give_default_permissions(temporary)
    os.replace(temporary, target)
