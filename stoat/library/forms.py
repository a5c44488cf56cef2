from __future__ import annotations

from django import forms

from stoat.library.libraries import LibraryError, LibrarySpec, check_spec, every_text
from stoat.library.models import DEFAULT_POLL_SECONDS, Library, WatchMode


class LibraryForm(forms.Form):
    name = forms.CharField(max_length=100)
    path = forms.CharField(
        label="Folder",
        max_length=4096,
        widget=forms.TextInput(attrs={"placeholder": "/srv/videos", "autocomplete": "off"}),
    )
    recursive = forms.BooleanField(label="Include subfolders", required=False, initial=True)
    every = forms.CharField(
        label="Rescan every",
        required=False,
        initial="6h",
        help_text="30m, 6h, 1d; empty for no schedule",
        widget=forms.TextInput(attrs={"class": "short"}),
    )
    cron = forms.CharField(
        label="or at cron times",
        required=False,
        help_text='e.g. "0 3 * * *"; replaces every',
        widget=forms.TextInput(attrs={"class": "short"}),
    )
    watch = forms.ChoiceField(
        choices=WatchMode.choices,
        initial=WatchMode.AUTO,
        widget=forms.Select(attrs={"class": "short"}),
    )
    poll_seconds = forms.IntegerField(
        label="Poll every (s)",
        initial=DEFAULT_POLL_SECONDS,
        widget=forms.NumberInput(attrs={"class": "short"}),
    )

    def __init__(self, *args: object, library: Library | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.library = library
        self.error_status = 400
        self.spec: LibrarySpec | None = None

    def clean(self) -> dict[str, object] | None:
        data = super().clean() or {}
        if self.errors:
            return data
        cron = data.get("cron") or ""
        spec = LibrarySpec(
            name=str(data["name"]),
            path=str(data["path"]),
            recursive=bool(data.get("recursive")),
            every=None if cron else str(data.get("every") or ""),
            cron=str(cron),
            watch=str(data["watch"]),
            poll_seconds=int(str(data["poll_seconds"])),
        )
        try:
            check_spec(spec, self.library)
        except LibraryError as error:
            self.error_status = error.status
            field = error.field if error.field in self.fields else None
            self.add_error(field, error.message)
            return data
        self.spec = spec
        return data

    def status(self) -> int:
        return self.error_status

    @classmethod
    def initial_of(cls, library: Library) -> dict[str, object]:
        return {
            "name": library.name,
            "path": library.path,
            "recursive": library.recursive,
            "every": every_text(library.every_minutes),
            "cron": library.cron,
            "watch": library.watch,
            "poll_seconds": library.poll_seconds,
        }
