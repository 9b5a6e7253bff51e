"""Published file names: the sha256 prefix replaces only a final '.pth'."""
import pytest

from fastgan_plugin.apis import published_path

SHA = '1a2b3c4d' + '0' * 56


@pytest.mark.parametrize('out,expected', [
    ('depth.pth', 'depth-1a2b3c4d.pth'),  # mmagic's rstrip('.pth') gives 'de-1a2b3c4d.pth'
    ('dir.pth/path.pth', 'dir.pth/path-1a2b3c4d.pth'),
    ('fastgan_obama', 'fastgan_obama-1a2b3c4d.pth'),
    ('model.pth.pth', 'model.pth-1a2b3c4d.pth'),
])
def test_published_path(out, expected):
    assert published_path(out, SHA) == expected
