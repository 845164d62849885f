from django.urls import path

from sessions_app import views

urlpatterns = [
    path("", views.join, name="join"),
    path("host/", views.host_dashboard, name="host_dashboard"),
]
