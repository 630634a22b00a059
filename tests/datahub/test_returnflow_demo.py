# ruff: noqa: F811  (the shared world fixtures are imported, then named as test arguments)
"""The 回流 demo builder: idempotent, deterministic, one harvested upstream dataset and one failed run that kept
the previous data."""

from __future__ import annotations

import pytest

from tests.datahub.world_returnflow import GRID_A1, VILLAGE_A, harvest_dir, rworld  # noqa: F401
from tests.factories import OrganisationFactory, PersonFactory
from yiwang.core.models import Department, Division
from yiwang.datahub.demo_returnflow import DIBAO_DIR, DIBAO_FILE, load_returnflow
from yiwang.datahub.models import DataResource, Harvester, HarvestRun, OffshoreRecord

pytestmark = pytest.mark.django_db


def test_demo_builder_is_idempotent_and_shows_a_kept_failure(rworld, settings):
    Department.objects.filter(code="JJD").update(code="SCJ")  # the builder's two providers: MZJ and SCJ
    DataResource.objects.filter(pk=rworld.resource.pk).update(code="440199-T-99999")
    Harvester.objects.filter(pk=rworld.harvester.pk).delete()
    village = Division.objects.get(code=VILLAGE_A)
    for _n in range(6):
        PersonFactory(division=village, address="甲社区某路 1 号")
    for _n in range(3):
        OrganisationFactory(division=village)
    first = load_returnflow()
    assert first["resources"] == 2 and first["harvesters"] == 2 and first["runs"] == 3
    assert (settings.VAR_DIR / "harvest" / DIBAO_DIR / DIBAO_FILE).exists()
    dibao = Harvester.objects.get(plugin="file_drop")
    assert dibao.current_run.status == "succeeded" and dibao.current_run.rows_written == 6
    # Households are placed in a grid of their village, so a grid worker sees them.
    divisions = set(
        OffshoreRecord.objects.filter(run=dibao.current_run).values_list("division_code", flat=True)
    )
    assert divisions <= {GRID_A1, "440199001001002"}
    pull = Harvester.objects.get(plugin="http_pull")
    runs = list(HarvestRun.objects.filter(harvester=pull).order_by("started_at", "id"))
    assert [r.status for r in runs] == ["succeeded", "failed"]
    assert pull.current_run_id == runs[0].pk and "拒绝连接" in runs[1].error
    assert OffshoreRecord.objects.filter(run=runs[0]).count() == 3
    assert DataResource.objects.get(code="440199-MZJ-L0001").return_levels == [2, 3, 4]

    again = load_returnflow()
    assert again == {"designated": 0, "resources": 0, "harvesters": 0, "runs": 0}
    assert HarvestRun.objects.count() == 3
