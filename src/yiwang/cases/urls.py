"""Case pages, mounted at /cases/ with namespace "cases"."""

from django.urls import path

from . import views_applicant as applicant
from . import views_staff as staff
from .bundles import views as views_bundles
from .instant import views as views_instant
from .pledges import views as views_pledge
from .proactive import views as views_proactive
from .reviews import views as views_reviews

app_name = "cases"

urlpatterns = [
    # applicants
    path("apply/<str:item_code>/", applicant.apply, name="apply"),
    path("mine/", applicant.mine, name="mine"),
    path("<uuid:case_id>/", applicant.detail, name="detail"),
    path("<uuid:case_id>/receipt/", applicant.receipt, name="receipt"),
    path("<uuid:case_id>/supply/", applicant.supply, name="supply"),
    path("<uuid:case_id>/withdraw/", applicant.withdraw, name="withdraw"),
    path("<uuid:case_id>/notice/", applicant.notice, name="notice"),
    # staff
    path("inbox/", staff.inbox, name="inbox"),
    path("window/", staff.window, name="window"),
    path("supervision/", staff.supervision, name="supervision"),
    path("<uuid:case_id>/work/", staff.work, name="work"),
    path("<uuid:case_id>/claim/", staff.claim, name="claim"),
    path("<uuid:case_id>/release/", staff.release, name="release"),
    path("<uuid:case_id>/files/<uuid:file_id>/", staff.case_file, name="file"),
]
# issue 4: 一件事, 秒批, 免申即享, 告知承诺/容缺, 好差评 — each feature module owns its patterns
for _module in (views_bundles, views_instant, views_proactive, views_pledge, views_reviews):
    urlpatterns += _module.urlpatterns
