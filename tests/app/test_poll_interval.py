"""How often a training page redraws, alone and in a class."""

from ui.live import POLL_LEVELS, POLL_S, SERVER_REDRAWS_S, paced, poll_interval, server_redraws


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


def test_a_page_whose_redraws_are_slow_redraws_less_often_and_speeds_up_again_without_flapping():
    """A redraw longer than its interval made a page rerun back to back (never idle, clicks queued behind it)."""
    assert paced(POLL_S, None) == POLL_S  # not measured yet
    assert paced(POLL_S, 0.05) == POLL_S  # a quick redraw keeps the quickest interval
    slow = paced(POLL_S, 0.2)
    assert slow >= 2 * 0.2 and slow in POLL_LEVELS
    assert paced(POLL_S, 5.0) == POLL_LEVELS[-1]  # never slower than the slowest step
    assert paced(1.0, 0.05) == 1.0  # a class's interval stays when the page is quick
    # Settled at `slow`, an average wobbling around the step below does not move it; a clearly quicker one does.
    for cost in (0.2, 0.15, 0.13, 0.12, 0.1, 0.13, 0.2):
        assert paced(POLL_S, cost, current=slow) == slow, cost
    assert paced(POLL_S, 0.03, current=slow) == POLL_S
