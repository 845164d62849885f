from django.urls import re_path

from sessions_app.live.consumers import LiveConsumer, PageConsumer

websocket_urlpatterns = [
    re_path(r"^ws/?$", LiveConsumer.as_asgi()),
    re_path(r"^ws/page/(?P<role>host|play)/(?P<code>\d{6})/$", PageConsumer.as_asgi()),
]
