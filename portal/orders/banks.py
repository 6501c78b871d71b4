"""The banks a Korean shop's buyers pay from and are refunded to, by PortOne's codes (the SDK's `Bank`), as people
read them: PortOne's 가상계좌 and transfers name them by code; a 현금환불's form offers the names to pick from."""

BANK_NAMES = {"KDB": "산업은행", "IBK": "기업은행", "KOOKMIN": "KB국민은행", "SUHYUP": "수협은행", "NONGHYUP": "NH농협은행",
              "LOCAL_NONGHYUP": "지역농축협", "WOORI": "우리은행", "STANDARD_CHARTERED": "SC제일은행", "CITI": "한국씨티은행",
              "DAEGU": "iM뱅크(대구은행)", "BUSAN": "부산은행", "KWANGJU": "광주은행", "JEJU": "제주은행", "JEONBUK": "전북은행",
              "KYONGNAM": "경남은행", "KFCC": "새마을금고", "SHINHYUP": "신협", "POST": "우체국", "HANA": "하나은행",
              "SHINHAN": "신한은행", "K_BANK": "케이뱅크", "KAKAO": "카카오뱅크", "TOSS": "토스뱅크"}
