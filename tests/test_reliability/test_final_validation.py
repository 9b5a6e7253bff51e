"""A run killed during its final validation validates when resumed (MMEngine's loop resumes
at max_iters, has nothing to train and ends without validating); a resumed run that had
finished validating does not validate again. Real ``tools/train.py`` processes; the
validation is made to stall by the test-only ``StallValidationHook``."""
import copy
import re
import signal

import pytest
from reliability_helpers import (
    load_checkpoint,
    make_images,
    start_training,
    subprocess_env,
    tail,
    tiny_config,
    wait_for,
)

pytestmark = pytest.mark.slow
TIMEOUT = 300
VALIDATING = 'The run stopped during its final validation (iteration 2): validating now'
METRIC = re.compile(r'Iter\(val\) \[2/2\]\s+SWD/256: [\d.]+ .*SWD/avg')


def test_a_run_killed_in_its_final_validation_validates_on_resume(tmp_path):
    work = tmp_path / 'work'
    cfg = tiny_config(work, make_images(tmp_path / 'images', 4), **{
        'train_cfg.val_interval': 2,
        'val_cfg': dict(type='MultiValLoop'),
        'val_evaluator': dict(type='Evaluator', metrics=[dict(
            type='GeneratorSWD', prefix='SWD', fake_nums=4, image_shape=(3, 256, 256),
            sample_model='ema')]),
        'custom_hooks': [dict(type='StallValidationHook')],
    })
    cfg.val_dataloader = copy.deepcopy(cfg.train_dataloader)
    cfg.val_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    config = tmp_path / 'tiny_fastgan.py'
    cfg.dump(str(config))

    marker = tmp_path / 'validating'
    log = tmp_path / 'killed.log'
    run = start_training(config, log, env=subprocess_env(FASTGAN_TEST_STALL_MARKER=str(marker)))
    wait_for(marker.exists, run, log, TIMEOUT, 'the final validation')
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    assert load_checkpoint(work / 'iter_2.pth')['meta']['iter'] == 2  # written before it

    log = tmp_path / 'resumed.log'
    assert start_training(config, log, '--resume').wait(timeout=TIMEOUT) == 0, tail(log)
    text = log.read_text()
    assert 'resumed epoch: 0, iter: 2' in text and VALIDATING in text, tail(log)
    assert METRIC.search(text), tail(log)
    hub = load_checkpoint(work / 'iter_2.pth')['message_hub']
    assert hub['runtime_info']['last_validated_iter'] == 2  # the checkpoint now records it

    log = tmp_path / 'again.log'
    assert start_training(config, log, '--resume').wait(timeout=TIMEOUT) == 0, tail(log)
    text = log.read_text()
    assert 'resumed epoch: 0, iter: 2' in text and VALIDATING not in text
    assert not METRIC.search(text)
