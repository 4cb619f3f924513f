"""The app in a real browser: Debian's Chromium against a real `streamlit run` server."""

from tests.browser import chromium_page, streamlit_server


def test_data_page_renders_a_plotly_chart_without_exceptions(tmp_path, workspace):
    with (
        streamlit_server(workspace, tmp_path / "server.log") as server,
        chromium_page(tmp_path) as page,
    ):
        # First, a page opened by its address in a new browser: the one page list, and the
        # router ran (its sidebar).
        page.goto(f"{server.url}/train")
        page.get_by_text("Dataset in use:").wait_for(timeout=60_000)
        page.locator("h1", has_text="Train").wait_for(timeout=30_000)
        links = page.locator('[data-testid="stSidebarNav"] a')
        titles = [links.nth(i).inner_text().split("\n")[-1] for i in range(links.count())]
        assert titles == ["Data", "Train", "Predictions", "Anomalies", "Experiments"]
        assert page.locator('[data-testid="stSidebarNav"]').count() == 1

        page.goto(server.url)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.get_by_text("Stationarity: raw price vs differenced").wait_for(timeout=30_000)
        page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert "AAPL" in page.inner_text("body")
