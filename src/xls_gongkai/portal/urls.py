"""Every address of the portal. The clerk's are under /unit/ (the unit comes from the session),
the officer's under /officer/ (login required); /l/<token>/ exchanges a private link."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from xls_gongkai.portal.views import clerk, officer

app_name = "portal"

portal_patterns = [
    path("", officer.home, name="home"),
    path("l/<str:token>/", clerk.link, name="link"),
    path("unit/", clerk.home, name="unit"),
    path("unit/template/", clerk.template, name="unit-template"),
    path("unit/upload/", clerk.upload, name="unit-upload"),
    path("unit/leave/", clerk.leave, name="unit-leave"),
    path("unit/v/<int:number>/", clerk.version, name="unit-version"),
    path("unit/v/<int:number>/explain/", clerk.explain, name="unit-explain"),
    path("unit/v/<int:number>/submit/", clerk.submit, name="unit-submit"),
    path("unit/v/<int:number>/receipt/", clerk.receipt, name="unit-receipt"),
    path("unit/v/<int:number>/<str:what>/", clerk.download, name="unit-download"),
    path("officer/login/", officer.login_view, name="login"),
    path("officer/logout/", officer.logout_view, name="logout"),
    path("officer/", officer.board, name="board"),
    path("officer/links/", officer.links, name="links"),
    path("officer/daichuan/", officer.drop, name="drop"),
    path("officer/daichuan/<int:pk>/", officer.drop_result, name="drop-result"),
    path("officer/summary/", officer.summary_page, name="summary"),
    path("officer/summary/<str:kind>/", officer.summary_download, name="summary-download"),
    path("officer/audit/", officer.audit_log, name="audit"),
    path("officer/u/<str:code>/", officer.review, name="review"),
    path("officer/u/<str:code>/decide/", officer.decide, name="decide"),
    path("officer/u/<str:code>/diff/", officer.compare, name="diff"),
    path("officer/u/<str:code>/rotate/", officer.rotate, name="rotate"),
    path("officer/u/<str:code>/upload/", officer.upload_for, name="upload-for"),
    path("officer/u/<str:code>/v/<int:number>/<str:what>/", officer.download, name="officer-download"),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("admin/", admin.site.urls),
]

handler400 = "xls_gongkai.portal.views.common.bad_request"
handler403 = "xls_gongkai.portal.views.common.forbidden"
handler404 = "xls_gongkai.portal.views.common.not_found"
handler500 = "xls_gongkai.portal.views.common.server_error"
