from __future__ import annotations

from django import forms

from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path


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
        except (InvalidPath, PathNotAllowed) as error:
            raise forms.ValidationError(str(error)) from error
