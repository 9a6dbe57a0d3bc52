"""A model saved with ``save_pretrained(max_shard_size=...)``: config.json, an index and
shards. The folder is one asset; a shard alone is a meaningless slice of tensors."""

from __future__ import annotations

import json

from tests.acceptance.realfiles import sparse_safetensors
from tests.cli.support import pantry

# A slice of the SDXL UNet as diffusers names it (shapes from UNet2DConditionModel with the
# published SDXL config): 2048-wide cross-attention context and the 2816-wide add embedding.
_FIRST_SHARD = {
    "conv_in.weight": ("F16", (320, 4, 3, 3)),
    "down_blocks.0.resnets.0.conv1.weight": ("F16", (320, 320, 3, 3)),
    "time_embedding.linear_1.weight": ("F16", (1280, 320)),
    "add_embedding.linear_1.weight": ("F16", (1280, 2816)),
    "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": ("F16", (640, 2048)),
    "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v.weight": ("F16", (640, 2048)),
}
_SECOND_SHARD = {
    "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight": ("F16", (1280, 2048)),
    "up_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight": ("F16", (1280, 2048)),
    "conv_out.weight": ("F16", (4, 320, 3, 3)),
}


def _sharded_unet(folder):
    folder.mkdir(parents=True)
    weight_map = {}
    for number, tensors in enumerate((_FIRST_SHARD, _SECOND_SHARD), start=1):
        name = f"diffusion_pytorch_model-0000{number}-of-00002.safetensors"
        sparse_safetensors(folder / name, tensors)
        weight_map.update(dict.fromkeys(tensors, name))
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (folder / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps(index))
    config = {"_class_name": "UNet2DConditionModel", "cross_attention_dim": 2048}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_inspect_reports_a_sharded_unet_folder_as_one_sdxl_unet(tmp_path):
    folder = _sharded_unet(tmp_path / "models" / "unet" / "my-sdxl-unet")
    result = pantry("inspect", tmp_path / "models", "--json")
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["path"] for r in reports] == [str(folder)]
    assert (reports[0]["kind"], reports[0]["base"]) == ("diffusion_model", "sdxl")
    assert reports[0]["format"] == "diffusers"


def test_scan_catalogues_a_sharded_folder_once_and_follows_its_rename(tmp_path):
    catalog = tmp_path / "catalog.db"
    models = tmp_path / "models"
    folder = _sharded_unet(models / "my-sdxl-unet")
    first = json.loads(pantry("scan", models, "--catalog", catalog, "--json").stdout)
    assert first["new"] == [str(folder)]
    assert pantry("tag", "my-sdxl-unet", "+base-unet", "--catalog", catalog).exit_code == 0

    renamed = folder.rename(models / "sdxl-unet-v2")
    second = json.loads(pantry("scan", models, "--catalog", catalog, "--json").stdout)
    assert second["moved"] == [{"from": str(folder), "to": str(renamed)}]
    listed = json.loads(pantry("ls", "--catalog", catalog, "--json").stdout)
    assert [(a["name"], a["kind"], a["base"], a["tags"]) for a in listed] == [
        ("sdxl-unet-v2", "diffusion_model", "sdxl", ["base-unet"])
    ]


def test_shards_catalogued_as_files_give_way_to_their_folder(tmp_path):
    # shards seen before config.json arrived (a download in progress, or an older pantry)
    catalog = tmp_path / "catalog.db"
    models = tmp_path / "models"
    folder = _sharded_unet(models / "my-sdxl-unet")
    config = (folder / "config.json").read_text()
    (folder / "config.json").unlink()
    first = json.loads(pantry("scan", models, "--catalog", catalog, "--json").stdout)
    assert len(first["new"]) == 2  # each shard on its own

    (folder / "config.json").write_text(config)
    second = json.loads(pantry("scan", models, "--catalog", catalog, "--json").stdout)
    assert second["new"] == [str(folder)]
    assert sorted(second["missing"]) == sorted(first["new"])
