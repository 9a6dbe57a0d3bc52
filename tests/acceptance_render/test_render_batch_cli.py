"""``pantry render`` on a batch where some recipes cannot render: each is named, the rest render."""

from __future__ import annotations

from click.testing import CliRunner

from pantry.cli import main
from pantry.recipes.image_meta import read_png_infotext
from pantry.recipes.infotext import parse_infotext

RECIPE = """\
checkpoint = "{checkpoint}"
prompt = "a lighthouse"
width = {width}
height = 64
steps = 2
seed = {seed}
{loras}
[lint]
ignore = ["PT405", "PT406"]  # a tiny model renders far below its base's size and steps
"""


def test_batch_renders_what_it_can_and_names_each_recipe_that_failed(tmp_path, models):
    from pantry.catalog import Catalog

    catalog_path = tmp_path / "catalog.db"
    with Catalog.open(catalog_path) as catalog:
        for path in (models.single, models.no_vae, models.loha):
            catalog.add_file(path)
            catalog.set_overrides(path.stem, {"base": "sd1"})  # too small to be recognised
    loha = '[[loras]]\nref = "loha"'
    recipes = {
        "good": dict(checkpoint="tiny", width=64, seed=5, loras=""),
        "lycoris": dict(checkpoint="tiny", width=64, seed=6, loras=loha),
        "no_vae": dict(checkpoint="tiny_novae", width=64, seed=7, loras=""),
        "odd_size": dict(checkpoint="tiny", width=68, seed=8, loras=""),  # lint error: --force
    }
    paths = []
    for name, fields in recipes.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(RECIPE.format(**fields))
        paths.append(str(path))
    out = tmp_path / "out"

    result = CliRunner().invoke(
        main,
        [
            "render",
            *paths,
            "--out",
            str(out),
            "--catalog",
            str(catalog_path),
            "--device",
            "cpu",
            "--force",
        ],
        catch_exceptions=False,
    )

    assert result.exit_code == 2, result.output
    assert [p.name for p in out.glob("*.png")] == ["good-5.png"]
    assert parse_infotext(read_png_infotext(out / "good-5.png")).recipe.seed == 5
    lines = result.output.splitlines()
    for name, reason in [
        ("lycoris", "LyCORIS LoHa"),
        ("no_vae", "holds no VAE weights"),
        ("odd_size", "multiples of 8"),
    ]:
        assert any(f"{name}.toml: " in line and reason in line for line in lines), name
    assert "3 of 4 recipes could not be rendered" in result.output
    assert "Traceback" not in result.output
