"""How often a training page redraws, alone and in a class."""

from ui.live import POLL_LEVELS, POLL_S, SERVER_REDRAWS_S, poll_interval, server_redraws


def test_one_student_gets_more_than_five_redraws_a_second():
    assert 1 / poll_interval(1) > 5
    assert poll_interval(1) == POLL_S


def test_a_class_keeps_the_server_redraw_rate_bounded_and_every_page_redrawing_within_two_seconds():
    for jobs in range(1, 61):
        interval = poll_interval(jobs)
        if jobs <= 30:  # the whole server redraws at most this often (a lone student: one page's rate)
            assert jobs / interval <= max(SERVER_REDRAWS_S, 1 / POLL_S) + 1e-9
        assert interval <= 1.5  # beyond 30 jobs, every page still redraws at least every 1.5 s
    assert poll_interval(20) <= 1.0  # 20 students: each page still redraws once a second


def test_the_interval_moves_in_steps_and_does_not_flap_when_one_student_pauses():
    assert {poll_interval(n) for n in range(1, 61)} == set(POLL_LEVELS)
    at_ten = poll_interval(10)
    assert poll_interval(11, current=at_ten) > at_ten  # the class grew past the step: slower at once
    assert poll_interval(9, current=at_ten) == at_ten  # one Pause does not rerun every page
    assert poll_interval(2, current=at_ten) < at_ten  # the class has mostly stopped: faster again
    assert poll_interval(1, current=poll_interval(20)) == POLL_S


def test_a_teacher_sets_the_servers_redraw_rate_and_a_bad_value_is_named(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_REDRAWS_S", "10")
    assert server_redraws() == (10.0, "")
    assert poll_interval(10) == 1.0  # 10 students share 10 redraws a second
    monkeypatch.setenv("PLAYGROUND_REDRAWS_S", "lots")
    value, problem = server_redraws()
    assert value == SERVER_REDRAWS_S and "PLAYGROUND_REDRAWS_S='lots'" in problem
