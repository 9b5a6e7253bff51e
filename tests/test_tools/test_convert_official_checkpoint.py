"""tools/model_converters/convert_official_checkpoint.py: the official fixtures converted by
the tool, then the user's path (written config + converted checkpoint -> init_model)
reproduces them; the assembled checkpoint keeps the age of the official EMA."""
import ast

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config

from fastgan_plugin.apis import init_model
from fastgan_plugin.models.editors.fastgan import SLEGenerator, load_official_checkpoint

ATOL = 1e-5
SIZES = [256, 1024]
TOOL = 'model_converters/convert_official_checkpoint'


@pytest.fixture(scope='module', params=SIZES)
def converted_files(request, official_fixture_dir, tmp_path_factory, run_tool):
    """The tool run on one fixture: (im_size, folder holding fastgan.pth and fastgan.py)."""
    im_size = request.param
    official_path = official_fixture_dir / f'fastgan_official_{im_size}_ngf8.pth'
    out = tmp_path_factory.mktemp(f'converted_{im_size}')
    result = run_tool(TOOL, official_path, out / 'fastgan.pth', '--config-out', out / 'fastgan.py')
    assert result.returncode == 0, result.stderr
    assert f'wrote {out / "fastgan.pth"} (im_size={im_size}, ngf=8, ndf=8, nz=256' in result.stderr
    return im_size, out


@pytest.fixture(scope='module')
def converted(converted_files, official_fixture_dir):
    """The user's path: (im_size, model from the written files, io, official checkpoint)."""
    im_size, out = converted_files
    model = init_model(str(out / 'fastgan.py'), str(out / 'fastgan.pth'))
    io = torch.load(official_fixture_dir / f'fastgan_official_{im_size}_ngf8_io.pt',
                    map_location='cpu', weights_only=True)
    official = torch.load(official_fixture_dir / f'fastgan_official_{im_size}_ngf8.pth',
                          map_location='cpu', weights_only=True)
    return im_size, model, io, official


def test_config_sets_the_official_architecture(converted_files, converted):
    im_size, out = converted_files
    model = converted[1]
    text = (out / 'fastgan.py').read_text()
    assert f"_base_ = 'fastgan_plugin::_base_/models/fastgan_{im_size}.py'" in text
    # The official generator applies tanh only at 1024.
    assert ("out_act='tanh'" if im_size == 1024 else 'out_act=None') in text
    generator = model.generator
    assert (generator.im_size, generator.ngf, generator.nz) == (im_size, 8, 256)
    assert generator.out_act == ('tanh' if im_size == 1024 else None)
    assert model.discriminator.ndf == 8


def test_generator_reproduces_the_official_eval_output(converted):
    _, model, io, _ = converted
    assert not model.generator.training
    with torch.no_grad():
        out = model.generator(io['z'], return_small=True)
    for ours, official in zip((out['fake_img'], out['fake_img_128']), io['g_eval_out']):
        assert ours.shape == official.shape
        assert (ours - official).abs().max().item() <= ATOL


def test_ema_generator_holds_g_ema_and_the_buffers_of_g(converted):
    # g_ema_eval_out itself cannot be reproduced: the fixture's EMA NoiseInjection weights are
    # non-zero and eval-mode noise is random (test_official_parity.py).
    _, model, _, official = converted
    ema = model.generator_ema.module
    parameters = list(ema.parameters())
    assert len(parameters) == len(official['g_ema'])
    for ours, theirs in zip(parameters, official['g_ema']):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    raw_buffers = dict(model.generator.named_buffers())
    for name, buffer in ema.named_buffers():
        torch.testing.assert_close(buffer, raw_buffers[name], rtol=0, atol=0)


def test_checkpoint_meta_names_the_source(converted_files):
    im_size, out = converted_files
    checkpoint = torch.load(out / 'fastgan.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta'] == dict(official_fastgan=dict(
        source=f'fastgan_official_{im_size}_ngf8.pth', im_size=im_size, ngf=8, ndf=8, nz=256,
        generator_ema='g_ema'))
    assert set(checkpoint) == {'state_dict', 'meta'}


def test_ema_only_checkpoint_fills_both_generators(official_fixture_dir, tmp_path, load_tool,
                                                   capsys):
    """``N.pth`` = {'g': EMA weights, 'd'}: both generators get 'g'; the config goes to
    stdout without --config-out."""
    official = torch.load(official_fixture_dir / 'fastgan_official_256_ngf8.pth',
                          map_location='cpu', weights_only=True)
    source = tmp_path / '50000.pth'
    torch.save(dict(g=official['g'], d=official['d']), source)
    load_tool(TOOL).main([str(source), str(tmp_path / 'ema.pth')])
    config = tmp_path / 'ema.py'
    config.write_text(capsys.readouterr().out)
    model = init_model(str(config), str(tmp_path / 'ema.pth'))
    raw = model.generator.state_dict()
    for key, value in model.generator_ema.module.state_dict().items():
        torch.testing.assert_close(value, raw[key], rtol=0, atol=0)
    checkpoint = torch.load(tmp_path / 'ema.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta']['official_fastgan']['generator_ema'] == 'g'


def test_overrides_that_do_not_fit_are_refused(official_fixture_dir, tmp_path, load_tool):
    with pytest.raises(ValueError, match='tensor shapes do not fit'):
        load_tool(TOOL).main([str(official_fixture_dir / 'fastgan_official_256_ngf8.pth'),
                              str(tmp_path / 'x.pth'), '--ngf', '16'])
    assert not (tmp_path / 'x.pth').exists()


def test_truncated_file_is_refused(official_fixture_dir, tmp_path, load_tool):
    truncated = tmp_path / 'all_50000.pth'
    data = (official_fixture_dir / 'fastgan_official_256_ngf8.pth').read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match='all_50000.pth is not a readable torch checkpoint'):
        load_tool(TOOL).main([str(truncated), str(tmp_path / 'x.pth')])


@pytest.mark.parametrize('source, updates', [('all_30000.pth', 30000), ('runs/12000.pth', 12000),
                                             ('fastgan_art.pth', 50000), (None, 50000)])
def test_ema_age_is_the_official_iteration(official_fixture_dir, load_tool, source, updates):
    """The converted EMA keeps its age, so an EMA ramp-up continues from a converged average
    instead of replacing it by the raw weights at the first update of fine-tuning."""
    converted = load_official_checkpoint(official_fixture_dir / 'fastgan_official_256_ngf8.pth')
    checkpoint = load_tool(TOOL).to_mmagic_checkpoint(converted, source)
    assert int(checkpoint['state_dict']['generator_ema.steps']) == updates
    generator = SLEGenerator(im_size=256, ngf=8, nz=256, out_act=None)
    ema = MODELS.build(dict(type='FastGANEMA', model=generator, rampup=0.05))
    ema.load_state_dict({key[len('generator_ema.'):]: value
                         for key, value in checkpoint['state_dict'].items()
                         if key.startswith('generator_ema.')})
    # m_t of the ramp at that age: 1 - 0.5 ** (1 / (0.05 * (N + 1))), at most 0.0028
    expected = max(0.001, 1 - 0.5**(1 / (0.05 * (updates + 1))))
    assert ema.current_momentum() == pytest.approx(expected)
    assert ema.current_momentum() < 0.003


def test_checkpoint_that_runs_code_is_refused(tmp_path, code_checkpoint, run_tool):
    evil = code_checkpoint('all_50000.pth', g={}, d={})
    result = run_tool(TOOL, evil, tmp_path / 'out.pth')
    assert result.returncode == 1
    assert 'error:' in result.stderr and 'weights_only=True' in result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'code_ran').exists()
    assert not (tmp_path / 'out.pth').exists()


def test_file_that_is_not_an_official_checkpoint_is_refused(tmp_path, run_tool):
    other = tmp_path / 'classifier.pth'
    torch.save(dict(state_dict=dict(weight=torch.zeros(2))), other)
    result = run_tool(TOOL, other, tmp_path / 'out.pth')
    assert result.returncode == 1
    assert "error: not an official FastGAN checkpoint: expected a dict with 'g' and 'd'" in \
        result.stderr
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_file_names_are_written_as_data_not_code(official_fixture_dir, tmp_path, monkeypatch,
                                                  run_tool):
    """A file name with a newline and Python code stays one comment line of the config: not
    run when the config is read, nor by tools/generate.py, and read back intact."""
    # (an ``import`` statement would make MMEngine read the file as a lazy-import config)
    name = "x.pth\n__import__('pathlib').Path('PWNED').touch()\n#"
    source, checkpoint = tmp_path / name, tmp_path / f'{name}.pth'
    source.write_bytes((official_fixture_dir / 'fastgan_official_256_ngf8.pth').read_bytes())
    config = tmp_path / 'fastgan.py'
    result = run_tool(TOOL, source, checkpoint, '--config-out', config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    comments = dict(line[2:].split(': ', 1) for line in config.read_text().splitlines()
                    if line.startswith(('# Official file: ', '# Checkpoint: ')))
    assert ast.literal_eval(comments['Official file']) == name
    assert ast.literal_eval(comments['Checkpoint']) == str(checkpoint)
    monkeypatch.chdir(tmp_path)  # where the payload would write PWNED
    assert Config.fromfile(str(config)).model.generator.out_act is None
    result = run_tool('generate', config, checkpoint, '--num', '1', '--out', tmp_path / 'gen',
                      '--device', 'cpu', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'gen' / 'seed_000000.png').is_file()
    assert not (tmp_path / 'PWNED').exists()
    meta = torch.load(checkpoint, map_location='cpu', weights_only=True)['meta']
    assert meta['official_fastgan']['source'] == name
