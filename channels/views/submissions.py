"""Submission list and detail, with Amazon's errors and the retry action."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View

from acorn.exceptions import ApplicationError
from acorn.views import TenantViewMixin
from channels.models import DocumentType, SubmissionStatus
from channels.selectors.submissions import submission_get, submission_list
from channels.services.submissions import submission_retry


class SubmissionFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(SubmissionStatus.choices))
    document_type = forms.ChoiceField(label=_("Document"), required=False,
                                      choices=[("", _("All"))] + list(DocumentType.choices))
    document_ref = forms.CharField(label=_("Reference"), required=False, max_length=100)


class SubmissionListView(TenantViewMixin, View):
    def get(self, request, tenant_slug):
        form = SubmissionFilterForm(request.GET)
        filters = form.cleaned_data if form.is_valid() else {}
        page = self.paginate(request, submission_list(tenant=self.tenant, filters=filters))
        return render(request, "channels/submission_list.html", {"form": form, "page": page})


class SubmissionDetailView(TenantViewMixin, View):
    def get(self, request, tenant_slug, submission_id):
        submission = submission_get(tenant=self.tenant, submission_id=submission_id)
        if submission is None:
            raise Http404("No such submission.")
        return render(request, "channels/submission_detail.html", {"submission": submission})


class SubmissionRetryView(TenantViewMixin, View):
    """POST: reconcile an in-doubt submission; resent only if Amazon has none."""

    def post(self, request, tenant_slug, submission_id):
        try:
            submission_retry(tenant=self.tenant, submission_id=submission_id,
                             actor=request.user)
        except ApplicationError as error:
            if error.status_code == 404:
                raise Http404("No such submission.") from None
            messages.error(request, error.message)
        else:
            messages.success(request, _("Reconciliation with Amazon requested."))
        return redirect("channels:submission_detail", tenant_slug=tenant_slug,
                        submission_id=submission_id)
