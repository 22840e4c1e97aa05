"""A test-only URLconf: the real URLs plus small endpoints that exercise the API base."""

from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.models import Heartbeat
from maturity.urls import handler404, handler500
from maturity.urls import urlpatterns as real_urlpatterns


class HeartbeatSerializer(serializers.ModelSerializer):
    class Meta:
        model = Heartbeat
        fields = ["id", "source", "beats"]


class HeartbeatViewSet(viewsets.ModelViewSet):
    queryset = Heartbeat.objects.all()
    serializer_class = HeartbeatSerializer


class NestedSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    value = serializers.IntegerField(min_value=1, max_value=5)


class ValidateView(APIView):
    def post(self, request):
        serializer = NestedSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data)


class BrokenView(APIView):
    def get(self, request):
        raise RuntimeError("boom")


from rest_framework.routers import SimpleRouter  # noqa: E402

router = SimpleRouter()
router.register("heartbeats", HeartbeatViewSet)

urlpatterns = [
    path("api/test/", include(router.urls)),
    path("api/test/validate/", ValidateView.as_view()),
    path("api/test/broken/", BrokenView.as_view()),
    *real_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
