from __future__ import annotations

from django import forms

from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path

PATH_NOT_ALLOWED = "path_not_allowed"


class ScanForm(forms.Form):
    path = forms.CharField(
        label="Folder to scan",
        max_length=4096,
        widget=forms.TextInput(attrs={"placeholder": "/srv/videos", "autocomplete": "off"}),
    )
    recursive = forms.BooleanField(label="Include subfolders", required=False, initial=True)

    def clean_path(self) -> str:
        try:
            return check_scan_path(self.cleaned_data["path"])
        except PathNotAllowed as error:
            raise forms.ValidationError(str(error), code=PATH_NOT_ALLOWED) from error
        except InvalidPath as error:
            raise forms.ValidationError(str(error)) from error

    def status(self) -> int:
        """The status of an invalid form: 403 for a folder outside the roots, else 400."""
        return 403 if self.has_error("path", code=PATH_NOT_ALLOWED) else 400
