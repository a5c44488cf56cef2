from __future__ import annotations

from typing import Any

from django import forms

from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path, needs_confirmation

PATH_NOT_ALLOWED = "path_not_allowed"
CONFIRM = "confirm"
# The pages that show the scan form; a form error is shown on the page it was sent from.
ORIGINS = ("jobs", "library", "new")


class ScanForm(forms.Form):
    # No max_length: the browser would cut a long path short silently; the check says why instead.
    path = forms.CharField(
        label="Folder to scan",
        widget=forms.TextInput(attrs={"placeholder": "/srv/videos", "autocomplete": "off"}),
    )
    recursive = forms.BooleanField(label="Include subfolders", required=False, initial=True)
    confirm = forms.BooleanField(label="Yes, scan all of it", required=False)

    def clean_path(self) -> str:
        try:
            return check_scan_path(self.cleaned_data["path"])
        except PathNotAllowed as error:
            raise forms.ValidationError(str(error), code=PATH_NOT_ALLOWED) from error
        except InvalidPath as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        path = cleaned.get("path")
        if path and not cleaned.get("confirm"):
            reason = needs_confirmation(path)
            if reason:
                self.add_error("path", forms.ValidationError(reason, code=CONFIRM))
        return cleaned

    @property
    def asks_confirmation(self) -> bool:
        return self.has_error("path", code=CONFIRM) or bool(self.data.get("confirm"))

    def status(self) -> int:
        """403 for a folder outside the roots; 200 when only a confirmation is missing; else 400."""
        if self.has_error("path", code=PATH_NOT_ALLOWED):
            return 403
        codes = {error.code for error in self.errors.as_data().get("path", [])}
        return 200 if codes == {CONFIRM} and len(self.errors) == 1 else 400


def origin_of(data: Any) -> str:
    found = data.get("from", "")
    return found if found in ORIGINS else "jobs"
