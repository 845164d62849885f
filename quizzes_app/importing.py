"""The quiz admin's import page: a quiz from JSON (the export's format), CSV or XLSX, and the templates."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from quizzes_app.io import QuizFormatError, quiz_from_json
from quizzes_app.models import Quiz
from quizzes_app.spreadsheet_template import COLUMNS, template_csv, template_xlsx
from quizzes_app.spreadsheets import MAX_QUESTIONS, is_spreadsheet, quiz_from_spreadsheet

# A quiz file carries its images as base64 (a third more than their size); larger quizzes go in
# with `manage.py import_quiz`. Spreadsheets are refused above this size before being read.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_NAME = "knewit-quiz-template"


class QuizImportForm(forms.Form):
    file = forms.FileField(
        label=_("Quiz file"),
        help_text=_(
            "A spreadsheet (.xlsx or .csv) in the template's columns or Kahoot's quiz template, or a"
            " Knewit quiz JSON file as exported; up to 10 MB."
        ),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv,.json,application/json,text/csv," + XLSX_TYPE}),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=Quiz._meta.get_field("title").max_length,
        required=False,
        help_text=_("For a spreadsheet; empty: the file's name. A JSON file has its own title."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 10 MB; manage.py import_quiz takes any size."))
        return upload


class QuizImportMixin:
    """The import page and the template downloads of QuizAdmin."""

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults: their "<path:object_id>/" would swallow "import/".
        name = f"{self.opts.app_label}_{self.opts.model_name}_"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=name + "import"),
            path(
                "import/template.xlsx", wrap(self.template_view), {"fmt": "xlsx"}, name=name + "template_xlsx"
            ),
            path("import/template.csv", wrap(self.template_view), {"fmt": "csv"}, name=name + "template_csv"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a quiz file; every mistake in it is listed and nothing is saved unless all is well."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QuizImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            try:
                if is_spreadsheet(upload.name, data):
                    quiz = quiz_from_spreadsheet(
                        data, upload.name, owner=request.user, title=form.cleaned_data["title"] or None
                    )
                else:
                    quiz = quiz_from_json(data, owner=request.user)
            except QuizFormatError as exc:
                errors, count = getattr(exc, "errors", None) or [str(exc)], getattr(exc, "count", 1)
                lead = gettext("Nothing was imported. Fix this and upload the file again:")
                if count > 1:
                    lead = ngettext(
                        "Nothing was imported. Fix this problem and upload the file again:",
                        "Nothing was imported. Fix these %(count)s problems and upload the file again:",
                        count,
                    ) % {"count": count}
                form.add_error("file", [lead, *errors])
            else:
                self.log_addition(request, quiz, [{"added": {}}])
                count = quiz.questions.count()
                text = ngettext(
                    "Imported “%(title)s” with %(count)s question.",
                    "Imported “%(title)s” with %(count)s questions.",
                    count,
                )
                messages.success(request, text % {"title": quiz.title, "count": count})
                return HttpResponseRedirect(reverse("admin:quizzes_app_quiz_change", args=[quiz.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "columns": COLUMNS,
            "max_questions": MAX_QUESTIONS,
            "title": gettext("Import a quiz"),
        }
        return TemplateResponse(request, "admin/quizzes_app/quiz/import.html", context)

    def template_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """The spreadsheet template: its header row and an example question of each kind."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if fmt == "xlsx":
            response = HttpResponse(template_xlsx(), content_type=XLSX_TYPE)
        else:
            response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_NAME}.{fmt}"'
        return response
