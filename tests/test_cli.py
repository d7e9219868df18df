"""The command line speaks Chinese even where argparse writes the message."""

import pytest

from analytics import cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bogus"], "参数 command 的取值 'bogus' 无效"),
        (["ingest"], "缺少参数：FILE"),
        (["metrics", "--months"], "参数 --months 需要一个值"),
        (["metrics", "--months", "0"], "参数 --months：应为正整数：0"),
        (["metrics", "--as-of", "2022-02-30"], "日期格式应为 YYYY-MM-DD：2022-02-30"),
        (["metrics", "--zzz"], "无法识别的参数：--zzz"),
    ],
)
def test_bad_arguments_are_one_chinese_line(argv, expected, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("错误：")
    assert expected in err
