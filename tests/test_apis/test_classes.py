"""Classes by name or index (fastgan_plugin.apis.classes): the one mapping of every sampling
function and tool, and its errors."""
import pytest
import torch

from fastgan_plugin.apis import class_indices, class_labels, class_names, find_classes


def test_names_first_then_indices():
    names = ['1', '10', '2']  # digit folder names, sorted as strings
    assert find_classes(names, '2') == [2]  # the class named '2', not index 2 ('2' is a name)
    assert find_classes(names, 2) == [2]  # an int is an index
    assert find_classes(names, ['10', 0]) == [1, 0]
    assert find_classes(['cat', 'dog'], ['dog', '0']) == [1, 0]  # '0' is no name: an index
    assert find_classes(names, None) == [0, 1, 2]
    assert find_classes(names, torch.tensor([2, 0])) == [2, 0]


@pytest.mark.parametrize('bad', ['cow', 2, '-1', ['cat', 'cow']])
def test_unknown_class_lists_the_classes(bad):
    with pytest.raises(ValueError, match=r'unknown class .* the 2 classes are, by index 0\.\.1 '
                                         'or by name: cat, dog'):
        find_classes(['cat', 'dog'], bad)


def test_names_of_the_checkpoint(tiny_conditional_model, tiny_model):
    model = tiny_conditional_model
    assert class_names(model) == ['cat', 'dog']
    assert class_indices(model) == [0, 1] and class_indices(model, 'dog') == [1]
    assert class_names(tiny_model) == [] and class_indices(tiny_model) == []
    saved = model.dataset_meta
    try:
        model.dataset_meta = {}  # a checkpoint without names: indices as names
        assert class_names(model) == ['0', '1']
        model.dataset_meta = dict(classes=('a', 'b', 'c'))
        with pytest.raises(ValueError, match='dataset_meta names 3 classes .* num_classes=2'):
            class_names(model)
    finally:
        model.dataset_meta = saved


def test_labels(tiny_conditional_model):
    model = tiny_conditional_model
    assert class_labels(model, 'dog', 3).tolist() == [1, 1, 1]
    assert class_labels(model, ['dog', 0, 'cat'], 3).tolist() == [1, 0, 0]
    assert class_labels(model, ['dog'], 1).dtype == torch.long
    with pytest.raises(ValueError, match='2 classes for 3 images: pass one class for all'):
        class_labels(model, ['dog', 'cat'], 3)


def test_unconditional_and_conditional_errors_say_what_to_pass(tiny_conditional_model,
                                                               tiny_model):
    assert class_labels(tiny_model, None, 2) is None
    with pytest.raises(ValueError, match=r'unconditional model .* leave classes \(--classes\) '
                                         'out'):
        class_labels(tiny_model, 0, 2)
    with pytest.raises(ValueError, match=r'class-conditional \(2 classes: cat, dog\): pass '
                                         'classes, a class name or index'):
        class_labels(tiny_conditional_model, None, 2)
