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


def test_residual_profile_fills_only_unset_keys(tmp_path):
    """model.arch = resnet8 brings its profile's values for the keys left unset; a set key wins; a key the rest of
    the configuration makes inert keeps its default rather than being an error; other networks get none."""
    from reram.config.loader import config_to_toml, explain_config
    from reram.config.profiles import profile_of

    prof = profile_of("resnet8")
    cfg = load_config(None, ["model.arch=resnet8"])
    for key, value in prof.items():
        section, name = key.split(".")
        assert getattr(getattr(cfg, section), name) == value, key
    cfg = load_config(None, ["model.arch=resnet8", "train.epochs=3", "analog.sensitivity_samples=50"])
    assert cfg.train.epochs == 3 and cfg.analog.sensitivity_samples == 50 and cfg.train.threads == 0
    cfg = load_config(None, ["model.arch=resnet20", "calibration.ablation=false", "analog.sensitivity_chips=0"])
    assert cfg.calibration.ablation_samples is None and cfg.analog.sensitivity_samples is None
    assert cfg.train.label_smoothing == prof["train.label_smoothing"]
    plain = load_config(None, ["model.arch=lenet5"])
    assert plain.train.threads == 1 and plain.train.label_smoothing == 0.0 and plain.calibration.ablation_second_network
    # the written configuration holds the values: read back, it is the same configuration
    path = tmp_path / "c.toml"
    path.write_text(config_to_toml(load_config(None, ["model.arch=resnet8"])))
    assert load_config(path) == load_config(None, ["model.arch=resnet8"])
    shown = explain_config(None, ["model.arch=resnet8", "train.epochs=3"])
    assert "epochs = 3  # --set" in shown and "threads = 0  # model.arch 'resnet8' profile" in shown
