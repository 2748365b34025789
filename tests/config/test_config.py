import pytest

from reram.config import config_to_toml, load_config, parse_set_value
from reram.config.schema import ReramConfig
from reram.errors import ConfigError


def test_defaults():
    cfg = load_config()
    assert cfg.model.hidden == [256, 128]
    assert cfg.data.dataset == "mnist"


def test_set_overrides_and_types():
    cfg = load_config(None, ["train.epochs=3", "model.hidden=[64, 32]", "data.dataset=fashion-mnist"])
    assert cfg.train.epochs == 3
    assert cfg.model.hidden == [64, 32]
    assert cfg.data.dataset == "fashion-mnist"
    assert parse_set_value("1.5") == 1.5 and parse_set_value("abc") == "abc" and parse_set_value("true") is True


@pytest.mark.parametrize(
    "override, needle",
    [
        ("train.epochs=-1", "train.epochs"),
        ("train.nope=1", "train.nope"),
        ("nosection.x=1", "nosection"),
        ("data.dataset=cifar", "data.dataset"),
        ("model.hidden=[0]", "model.hidden"),
        ("epochs=3", "dotted path"),
        ("train.epochs", "section.key=value"),
    ],
)
def test_bad_values_name_the_key(override, needle):
    with pytest.raises(ConfigError, match=needle):
        load_config(None, [override])


def test_toml_file_roundtrip(tmp_path):
    cfg = load_config(None, ["train.epochs=7", "data.dir=/data/x"])
    p = tmp_path / "c.toml"
    p.write_text(config_to_toml(cfg))
    assert load_config(p) == cfg


def test_commented_init_file_parses_to_defaults(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(config_to_toml(ReramConfig(), commented=True))
    assert load_config(p) == ReramConfig()
    assert "# Training epochs." in p.read_text()


def test_bad_toml_and_missing_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[train\nepochs=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")
    p.write_text("[train]\nepochs = 'many'\n")
    with pytest.raises(ConfigError, match=r"bad.toml.*train.epochs"):
        load_config(p)
