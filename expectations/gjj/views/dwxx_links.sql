-- 单位 × 职工 × 政策参数：one row per row of DWXX (same _BATCH, _ROW). Values are text; NULL means "cannot be
-- judged here" (another rule reports the value that makes it so). Dates may be written YYYY-MM-DD or
-- YYYYMMDD; *_D columns hold the canonical YYYY-MM-DD of a valid date. The batch month is the month of the
-- batch's as-of (dq_as_of); the policy row is ZCXX of the unit's city for the as-of year (exactly one row,
-- with fractions floor ≤ cap, else NULL: gjj.zcxx.* report it).
WITH batch_asof AS (
    SELECT _BATCH, CAST(AS_OF AS DATE) AS as_of_d, year(AS_OF) * 12 + month(AS_OF) AS bm_n,
           CAST(year(AS_OF) AS VARCHAR) AS yr
    FROM dq_as_of
), policy AS (
    SELECT _BATCH, CSDM, ND, min(DWJCBLXX) AS dxx, min(DWJCBLSX) AS dsx, min(GRJCBLXX) AS gxx, min(GRJCBLSX) AS gsx
    FROM ZCXX WHERE CSDM IS NOT NULL AND ND IS NOT NULL
    GROUP BY _BATCH, CSDM, ND HAVING count(*) = 1
), policy_n AS (
    SELECT _BATCH, CSDM, ND, count(*) AS n FROM ZCXX WHERE CSDM IS NOT NULL AND ND IS NOT NULL GROUP BY ALL
), persons AS (
    SELECT _BATCH, DWZH,
        count(*) FILTER (WHERE GRZHZT = '01') AS active_n,
        sum(CASE WHEN regexp_full_match(GRZHYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(GRZHYE AS DECIMAL(21,6)) END) AS balance,
        count(*) FILTER (WHERE NOT coalesce(regexp_full_match(GRZHYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?'), false)) AS unreadable
    FROM GRXX WHERE DWZH IS NOT NULL GROUP BY _BATCH, DWZH
), base AS (
    SELECT d._BATCH, d._ROW, d.CSDM, d.DWZH, d.DWZHZT, d.DWZHYE, d.DWJCRS, d.DWXHRQ, d.JZNY, d.DWJCBL, d.GRJCBL,
        dq_date(CASE WHEN regexp_full_match(d.DWSLRQ, '[0-9]{8}') THEN substr(d.DWSLRQ, 1, 4) || '-' || substr(d.DWSLRQ, 5, 2) || '-' || substr(d.DWSLRQ, 7, 2) ELSE d.DWSLRQ END) AS slrq,
        dq_date(CASE WHEN regexp_full_match(d.DWKHRQ, '[0-9]{8}') THEN substr(d.DWKHRQ, 1, 4) || '-' || substr(d.DWKHRQ, 5, 2) || '-' || substr(d.DWKHRQ, 7, 2) ELSE d.DWKHRQ END) AS khrq,
        CASE WHEN regexp_full_match(d.JZNY, '[0-9]{4}-?[0-9]{2}') AND substr(d.JZNY, 1, 4) <> '0000'
                  AND right(d.JZNY, 2) BETWEEN '01' AND '12'
             THEN CAST(substr(d.JZNY, 1, 4) AS INTEGER) * 12 + CAST(right(d.JZNY, 2) AS INTEGER) END AS jzny_n,
        CASE WHEN regexp_full_match(d.DWJCBL, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(d.DWJCBL AS DECIMAL(21,6)) END AS x_dwjcbl,
        CASE WHEN regexp_full_match(d.GRJCBL, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(d.GRJCBL AS DECIMAL(21,6)) END AS x_grjcbl,
        CASE WHEN regexp_full_match(p.dxx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.dxx AS DECIMAL(21,6)) END AS dxx,
        CASE WHEN regexp_full_match(p.dsx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.dsx AS DECIMAL(21,6)) END AS dsx,
        CASE WHEN regexp_full_match(p.gxx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.gxx AS DECIMAL(21,6)) END AS gxx,
        CASE WHEN regexp_full_match(p.gsx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.gsx AS DECIMAL(21,6)) END AS gsx,
        pn.n AS policy_rows, a.as_of_d, a.bm_n,
        g.active_n, g.balance, g.unreadable
    FROM DWXX d
    LEFT JOIN batch_asof a ON a._BATCH = d._BATCH
    LEFT JOIN policy p ON p._BATCH = d._BATCH AND p.CSDM = d.CSDM AND p.ND = a.yr
    LEFT JOIN policy_n pn ON pn._BATCH = d._BATCH AND pn.CSDM = d.CSDM AND pn.ND = a.yr
    LEFT JOIN persons g ON g._BATCH = d._BATCH AND g.DWZH = d.DWZH
)
SELECT _BATCH, _ROW, CSDM, DWZH, DWZHZT, DWZHYE, DWJCRS, DWXHRQ,
    strftime(slrq, '%Y-%m-%d') AS DWSLRQ_D,
    strftime(khrq, '%Y-%m-%d') AS DWKHRQ_D,
    -- 开户日期不得晚于数据截止日 / opened on a day after the as-of
    CASE WHEN khrq IS NULL OR as_of_d IS NULL THEN NULL WHEN khrq > as_of_d THEN '1' ELSE '0' END AS KHRQ_FUTURE,
    -- 销户日期只在销户（04）时填写 / a closing date on an account that is not closed
    CASE WHEN DWXHRQ IS NOT NULL AND DWZHZT IS NOT NULL AND DWZHZT <> '04' THEN '1' ELSE '0' END AS XHRQ_STRAY,
    -- 缴至年月不晚于本月 + 12 个月 / paid more than 12 months ahead
    CASE WHEN jzny_n IS NULL OR bm_n IS NULL THEN NULL WHEN jzny_n > bm_n + 12 THEN '1' ELSE '0' END AS JZNY_AHEAD,
    -- 本城市本年度的政策参数：没有为 0，恰好一行为 1；重复的行由 gjj.zcxx.nd.unique 报告（此处不判断）
    CASE WHEN CSDM IS NULL OR as_of_d IS NULL THEN NULL WHEN policy_rows IS NULL THEN '0'
         WHEN policy_rows = 1 THEN '1' END AS POLICY_FOUND,
    -- 比例须在本市本年度政策的上下限内（只判断写成小数的比例；写成百分数的由 .scale 规则报告）
    CASE WHEN x_dwjcbl IS NULL OR x_dwjcbl > 1 OR dxx IS NULL OR dsx IS NULL OR dxx > dsx OR dsx > 1 THEN NULL
         WHEN x_dwjcbl BETWEEN dxx AND dsx THEN '1' ELSE '0' END AS DWJCBL_IN_POLICY,
    CASE WHEN x_grjcbl IS NULL OR x_grjcbl > 1 OR gxx IS NULL OR gsx IS NULL OR gxx > gsx OR gsx > 1 THEN NULL
         WHEN x_grjcbl BETWEEN gxx AND gsx THEN '1' ELSE '0' END AS GRJCBL_IN_POLICY,
    -- 缴存人数 = 该单位状态为 01 的个人账户数；单位余额 = 其个人账户余额之和（有无法读取的余额时不判断）
    CASE WHEN DWZH IS NULL THEN NULL ELSE CAST(coalesce(active_n, 0) AS VARCHAR) END AS DWJCRS_CALC,
    CASE WHEN DWZH IS NULL OR coalesce(unreadable, 0) > 0 THEN NULL
         ELSE CAST(CAST(coalesce(balance, 0) AS DECIMAL(21,2)) AS VARCHAR) END AS DWZHYE_CALC
FROM base
